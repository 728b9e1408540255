"""Citizens: a payee's own view of their public payments, their account, the checks that ran and who
at the authority looked at their data (förordning 2023:462 §4), and their yearly statement."""
