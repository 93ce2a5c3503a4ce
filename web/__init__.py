"""The fundtrail web app: staff record and approve, auditors verify, the public reads and checks.

web.app builds the app (`create_app`); web.views holds one blueprint per area; web.access
says who may open which page (deny by default); web.db is the session of each request and
web.unit its unit of work; web.settings, web.forms, web.choices, web.format and web.i18n serve
them all.
"""
