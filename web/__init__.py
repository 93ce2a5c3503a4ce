"""The fundtrail web app: staff record and approve, auditors verify, the public reads and checks.

web.app builds the app (`create_app`); web.views holds one blueprint per area; web.db is the
one unit of work per request; web.settings, web.forms, web.format and web.i18n serve them all.
"""
