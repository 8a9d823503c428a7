"""Who may do what: principals holding grants, and the API keys that authenticate them.

A **principal** is whoever acts: an API key today, a person signed in to the coming dashboard
tomorrow. A principal holds **grants**; a grant names one company, the parties its holder may
act as (``owner``, ``company``, ``board`` …) and its scopes:

- ``read``: read the company's workflows, deadlines and audit entries;
- ``command``: send commands, as one of the grant's parties only;
- ``admin``: change the company's registered terms.

A grant with no company is the *installation's*: its holder is an **operator**, who may
register new companies, and receives a full grant (every party, every scope) in each company it
registers. It reads and commands nothing by itself. So an operator of one or several companies
is a principal with one grant per company — the shape a dashboard's person needs — and a key
issued to an integration is a principal with exactly one grant.

Why an installation-level operator rather than "a company key may register only itself": a
company-bound key must be created for a company that already exists (a grant references its
company), so someone must register the first one; that someone is either the command line
(database access: ``equityflow register-company``, ``equityflow keys create``) or an operator
key over HTTP. An operator learns which company ids are taken (it must, to pick a free one)
and nothing else about a company it did not register.

Answers: no key or a bad key → 401; a company the principal holds no grant in → 404, the same
whether or not it exists; a missing scope or party → 403 naming what the grant allows.
"""
