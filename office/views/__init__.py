"""The office's pages and actions, one module per area; add_routes names every route."""

from __future__ import annotations

from aiohttp import web

from office.views import (
    activity,
    acts,
    appeals,
    application_desk,
    applications,
    audit,
    auth,
    dashboard,
    documents,
    fund,
    reimbursement,
    round,
    shops,
    transparency,
)


def add_routes(app: web.Application) -> None:
    # An id in an address is 1 to 9 digits (`{act:\d{1,9}}`: an integer column holds up to
    # 2,147,483,647); anything else matches no route and is the office's not-found page
    # (office.pages.not_found), never an overflow in the database.
    # documents before applications: /applications.csv must not read as a protocol.
    for module in (
        auth,
        dashboard,
        documents,
        applications,
        application_desk,
        round,
        fund,
        acts,
        shops,
        reimbursement,
        audit,
        appeals,
        transparency,
        activity,
    ):
        module.add_routes(app)
