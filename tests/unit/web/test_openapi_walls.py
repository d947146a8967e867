"""Real replies of running a wall (and its pages) fit ``/api/openapi.json``, refusals included."""

from wall import create_app, stop_app

from ...support.helpers import make_config
from ...support.openapi_checker import JSON, Checker

ADMIN = "sesame"
OPERATOR = {"Authorization": "Bearer " + ADMIN}
#: a wrong key from its own address, so that the wrong-key limit counts only these
ELSEWHERE = {"REMOTE_ADDR": "10.0.0.7"}


def bearer(key):
    return {"Authorization": "Bearer " + key}


def test_running_a_wall_replies_fit_their_schemas(redis_url):
    app = create_app(
        make_config(
            redis_url,
            ADMIN_TOKEN=ADMIN,
            RATE_LIMITS=True,
            RATE_LIMIT_KEYS="5/minute",
            RATE_LIMIT_CLIENT="100/10 seconds",
            RATE_LIMIT_CREATE="50/minute",
            RATE_LIMIT_PASSCODES="2/minute",
        )
    )
    try:
        c = Checker(app)
        http = c.client
        key = _create(c, http)
        auth = bearer(key)
        _settings(c, http, auth)
        first, second = _moderate(c, http, auth)
        _ban(c, http, auth, first)
        _keys(c, http, auth)
        _private(c, http, auth)
        _authors(c, http, auth)
        _audit_and_export(c, http, auth)
        _pages(c, http)
        _the_whole_wall(c, http, auth)
        seen = {(method, path) for method, path, _ in c.seen}
        assert c.operations("organisers") <= seen, c.operations("organisers") - seen
        assert c.operations("pages") - {("GET", "/"), ("GET", "/w/{wall}")} <= seen
        statuses = {status for _, _, status in c.seen}
        assert {200, 201, 301, 400, 401, 403, 404, 409, 422, 429} <= statuses
    finally:
        stop_app(app)


def _create(c, http):
    walls = "/api/walls"
    c.check("/new", "GET", http.get("/new"))
    body = c.request(walls, "POST", {"wall": "Team", "title": "Team", "description": "a\nb"})
    created = c.check(walls, "POST", http.post(walls, json=body))
    assert created.status_code == 201 and created.json["wall"] == "team"
    assert c.check(walls, "POST", http.post(walls, json={"wall": "team"})).status_code == 409
    assert c.check(walls, "POST", http.post(walls, json={"wall": "main"})).status_code == 403
    assert c.check(walls, "POST", http.post(walls, json={"wall": "no way"})).status_code == 400
    assert c.check(walls, "POST", http.post(walls, json=["team"])).status_code == 400
    cross = http.post(walls, json={"wall": "x"}, headers={"Origin": "http://evil"})
    assert c.check(walls, "POST", cross).status_code == 403
    http.post("/api/walls/busy/posts", json={"username": "bo", "message": "first"})
    assert c.check(walls, "POST", http.post(walls, json={"wall": "busy"})).status_code == 403
    claimed = c.check(walls, "POST", http.post(walls, json={"wall": "busy"}, headers=OPERATOR))
    assert claimed.status_code == 201
    return created.json["organizer_key"]


def _settings(c, http, auth):
    path, url = "/api/walls/{wall}/settings", "/api/walls/team/settings"
    public = c.check(path, "GET", http.get(url))
    assert "blocklist" not in public.json
    assert "passcode_set" in c.check(path, "GET", http.get(url, headers=auth)).json
    assert c.check(path, "GET", http.get(url, headers=bearer("wk_nope"))).status_code == 403
    assert c.check(path, "GET", http.get("/api/walls/-bad!/settings")).status_code == 400
    change = c.request(path, "PATCH", {"moderation": "approve", "blocklist": ["spam"]})
    assert c.check(path, "PATCH", http.patch(url, json=change)).status_code == 401
    assert c.check(path, "PATCH", http.patch(url, json=change, headers=auth)).status_code == 200
    for bad in ({"moderation": "maybe"}, {"colour": "red"}, {}, {"visibility": "private"}):
        assert c.check(path, "PATCH", http.patch(url, json=bad, headers=auth)).status_code == 400
    large = http.patch(url, data="x" * 70_000, content_type=JSON, headers=auth)
    assert c.check(path, "PATCH", large).status_code == 413


def _post(c, http, message, wall="team", **headers):
    body = c.request("/api/walls/{wall}/posts", "POST", {"username": "ann", "message": message})
    reply = http.post("/api/walls/%s/posts" % wall, json=body, headers=headers)
    return c.check("/api/walls/{wall}/posts", "POST", reply)


def _moderate(c, http, auth):
    """Two posts held for approval, one approved and pinned, one hidden."""
    first = _post(c, http, "hello").json["post"]
    second = _post(c, http, "no spam here").json["post"]
    assert first["status"] == second["status"] == "pending"
    queue = c.check(
        "/api/walls/{wall}/queue", "GET", http.get("/api/walls/team/queue", headers=auth)
    )
    assert [p["id"] for p in queue.json["posts"]] == [first["id"], second["id"]]
    assert (
        c.check("/api/walls/{wall}/queue", "GET", http.get("/api/walls/team/queue")).status_code
        == 401
    )
    action = "/api/walls/{wall}/posts/{post_id}/{action}"

    def act(post, name, **kwargs):
        url = "/api/walls/team/posts/%s/%s" % (post["id"], name)
        return c.check(action, "POST", http.post(url, headers=kwargs.get("headers", auth)))

    assert act(first, "approve").json["post"]["status"] == "visible"
    pinned = act(first, "pin").json["post"]
    assert pinned["pinned"] and pinned["rev"] > first["rev"]
    assert act(second, "hide").json["post"]["status"] == "hidden"
    assert act(second, "pin").status_code == 400  # a hidden post
    assert act(second, "explode").status_code == 404
    assert act({"id": "1-1"}, "approve").status_code == 404
    assert act(first, "unpin", headers={}).status_code == 401
    hidden = c.check(
        "/api/walls/{wall}/hidden", "GET", http.get("/api/walls/team/hidden", headers=auth)
    )
    assert [p["id"] for p in hidden.json["posts"]] == [second["id"]]
    settings = "/api/walls/team/settings"
    for change, status in (
        ({"moderation": "open", "blocklist_action": "reject"}, 422),
        ({"moderation": "closed"}, 403),
        ({"moderation": "open", "blocklist": [], "slow_mode_s": 60}, None),
    ):
        http.patch(settings, json=change, headers=auth)
        if status:
            assert _post(c, http, "spam!").status_code == status
    _post(c, http, "once")
    slowed = _post(c, http, "twice")
    assert slowed.status_code == 429 and slowed.json["retry_after"] >= 1
    http.patch(settings, json={"slow_mode_s": 0}, headers=auth)
    return first, second


def _ban(c, http, auth, post):
    bans, url = "/api/walls/{wall}/bans", "/api/walls/team/bans"
    one = "/api/walls/{wall}/bans/{ban_id}"
    body = c.request(bans, "POST", {"post_id": post["id"]})
    ban = c.check(bans, "POST", http.post(url, json=body, headers=auth))
    assert ban.status_code == 201 and "warning" not in ban.json
    banned = _post(c, http, "let me in")
    assert banned.status_code == 403 and banned.json["error"] == "banned"
    assert len(c.check(bans, "GET", http.get(url, headers=auth)).json["bans"]) == 1
    lift = "%s/%s" % (url, ban.json["ban"]["id"])
    assert c.check(one, "DELETE", http.delete(lift, headers=auth)).status_code == 200
    assert c.check(one, "DELETE", http.delete(lift, headers=auth)).status_code == 404
    body = c.request(bans, "POST", {"post_id": post["id"], "scope": "address"})
    wide = c.check(bans, "POST", http.post(url, json=body, headers=auth))
    assert wide.json["ban"]["scope"] == "address" and wide.json["warning"]
    http.delete("%s/%s" % (url, wide.json["ban"]["id"]), headers=auth)
    assert c.check(bans, "POST", http.post(url, json={}, headers=auth)).status_code == 400
    gone = http.post(url, json={"post_id": "1-1"}, headers=auth)
    assert c.check(bans, "POST", gone).status_code == 404
    assert c.check(bans, "GET", http.get(url)).status_code == 401


def _keys(c, http, auth):
    keys, url = "/api/walls/{wall}/keys", "/api/walls/team/keys"
    one = "/api/walls/{wall}/keys/{key_id}"
    body = c.request(keys, "POST", {"label": "co-organiser"})
    issued = c.check(keys, "POST", http.post(url, json=body, headers=auth))
    assert issued.status_code == 201
    co = bearer(issued.json["key"]["key"])
    as_co = http.get("/api/walls/team/settings", headers=co)
    assert c.check("/api/walls/{wall}/settings", "GET", as_co).status_code == 200
    assert c.check(keys, "POST", http.post(url, headers=auth)).status_code == 201  # no body
    listed = c.check(keys, "GET", http.get(url, headers=co))
    assert sorted(k["label"] for k in listed.json["keys"]) == [
        "co-organiser",
        "creator",
        "organiser",
    ]
    revoke = "%s/%s" % (url, issued.json["key"]["id"])
    assert c.check(one, "DELETE", http.delete(revoke, headers=auth)).status_code == 200
    assert c.check(one, "DELETE", http.delete(revoke, headers=auth)).status_code == 404
    assert c.check(keys, "GET", http.get(url, headers=co)).status_code == 403
    nobody = http.post("/api/walls/nobody/keys", headers=OPERATOR)
    assert c.check(keys, "POST", nobody).status_code == 404
    for _ in range(5):
        http.get(url, headers=bearer("wk_wrong"), environ_base=ELSEWHERE)
    limited = http.get(url, headers=bearer("wk_wrong"), environ_base=ELSEWHERE)
    assert c.check(keys, "GET", limited).status_code == 429


def _private(c, http, auth):
    settings, url = "/api/walls/{wall}/settings", "/api/walls/team/settings"
    change = c.request(settings, "PATCH", {"visibility": "private", "passcode": "open sesame"})
    changed = c.check(settings, "PATCH", http.patch(url, json=change, headers=auth))
    assert changed.json["passcode_set"] is True
    assert set(c.check(settings, "GET", http.get(url)).json) == {"wall", "visibility"}
    posts = c.check("/api/walls/{wall}/posts", "GET", http.get("/api/walls/team/posts"))
    assert posts.status_code == 403
    assert _post(c, http, "hi").status_code == 403
    unlock = "/w/{wall}/unlock"
    unlocking = {"environ_base": {"REMOTE_ADDR": "10.0.0.8"}}
    wrong = http.post("/w/team/unlock", json={"passcode": "nope"}, **unlocking)
    assert c.check(unlock, "POST", wrong).status_code == 403
    http.post("/w/team/unlock", json={"passcode": "nope"}, **unlocking)
    limited = http.post("/w/team/unlock", json={"passcode": "nope"}, **unlocking)
    assert c.check(unlock, "POST", limited).status_code == 429
    assert c.check(unlock, "POST", http.post("/w/busy/unlock", json={})).status_code == 400
    assert c.check(unlock, "POST", http.post("/w/no!/unlock", json={})).status_code == 404
    form = c.request(
        unlock, "POST", {"passcode": "open sesame"}, "application/x-www-form-urlencoded"
    )
    unlocked = c.check(unlock, "POST", http.post("/w/team/unlock", data=form))
    assert unlocked.status_code == 200 and "wall_grant_team=" in unlocked.headers["Set-Cookie"]
    assert "title" in c.check(settings, "GET", http.get(url)).json
    assert (
        c.check("/api/walls/{wall}/posts", "GET", http.get("/api/walls/team/posts")).status_code
        == 200
    )
    http.patch(url, json={"visibility": "public", "passcode": None}, headers=auth)


def _authors(c, http, auth):
    one = "/api/walls/{wall}/posts/{post_id}"
    mine = _post(c, http, "take me back").json
    url = "/api/walls/team/posts/%s" % mine["post"]["id"]
    wrong = http.delete(url, headers={"X-Author-Key": "0" * 32})
    assert c.check(one, "DELETE", wrong).status_code == 403
    right = http.delete(url, headers={"X-Author-Key": mine["author_key"]})
    assert c.check(one, "DELETE", right).status_code == 200


def _audit_and_export(c, http, auth):
    audit = c.check(
        "/api/walls/{wall}/audit", "GET", http.get("/api/walls/team/audit", headers=auth)
    )
    actions = {entry["action"] for entry in audit.json["entries"]}
    assert {"create", "settings", "approve", "ban", "lift ban", "add key", "delete"} <= actions
    export, url = "/api/walls/{wall}/export", "/api/walls/team/export"
    csv = c.check(export, "GET", http.get(url, headers=auth))
    assert csv.mimetype == "text/csv" and "attachment" in csv.headers["Content-Disposition"]
    as_json = c.check(export, "GET", http.get(url + "?format=json", headers=auth))
    assert {p["status"] for p in as_json.json["posts"]} >= {"visible", "hidden"}
    assert c.check(export, "GET", http.get(url + "?format=xml", headers=auth)).status_code == 400
    assert c.check(export, "GET", http.get(url)).status_code == 401


def _pages(c, http):
    for page in ("manage", "present"):
        path = "/w/{wall}/%s" % page
        assert c.check(path, "GET", http.get("/w/team/%s" % page)).status_code == 200
        assert c.check(path, "GET", http.get("/w/Team/%s" % page)).status_code == 301
        assert c.check(path, "GET", http.get("/w/no!/%s" % page)).status_code == 404
    c.check("/w/{wall}/present", "GET", http.get("/w/team/present?theme=dark&sort=popular"))
    qr = "/w/{wall}/qr.{kind}"
    assert c.check(qr, "GET", http.get("/w/team/qr.svg")).mimetype == "image/svg+xml"
    assert c.check(qr, "GET", http.get("/w/team/qr.png")).mimetype == "image/png"
    assert c.check(qr, "GET", http.get("/w/team/qr.gif")).status_code == 404


def _the_whole_wall(c, http, auth):
    clear = c.check(
        "/api/walls/{wall}/clear", "POST", http.post("/api/walls/team/clear", headers=auth)
    )
    assert clear.json["deleted"] >= 1
    path, url = "/api/walls/{wall}", "/api/walls/team"
    assert c.check(path, "DELETE", http.delete(url)).status_code == 401
    assert c.check(path, "DELETE", http.delete(url, headers=auth)).status_code == 200
    assert c.check(path, "DELETE", http.delete(url, headers=auth)).status_code == 403
    assert c.check(path, "DELETE", http.delete(url, headers=OPERATOR)).status_code == 200
    assert JSON in c.response_spec(path, "DELETE", 200)["content"]
