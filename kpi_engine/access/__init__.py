"""Who is asking, and what they may do: principals and roles (``principal``), teams with
their members and invitations (``teams``), personal tokens for the command line
(``tokens``), the audit log (``audit``) and rate limits (``rates``). Every engine function
that changes something checks the store's principal here, whatever a page showed."""
