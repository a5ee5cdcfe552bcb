"""Services: every action of a clerk, officer, supervisor or administrator, rights enforced.

Each service takes ``*, session`` and the acting operator keyword-only, checks the rights and
the input, and records the change as one signed event in the caller's transaction.
"""
