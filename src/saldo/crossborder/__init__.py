"""The cross-border citizen: a person logs in with an eID of another EU/EEA country through the
eIDAS network and is matched to their record here, by an identifier already known or by name and
birth date, with the strength recorded; a weak or ambiguous match opens nothing."""
