"""Online procedures: a person applies for a PDA1 (which country's social security covers them when
they work across borders) or a European Health Insurance Card in their own pages; a caseworker with
the issuer role decides with the facts in front of them; a grant goes out as the credential, and a
posting to the other state as an A009; the person follows the status and gets the decision in the
language they applied in."""
