import os

import django
from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.base import BaseHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "podnex.settings")
django.setup(set_prefix=False)


from podnex.api.errors import body_limit, payload_too_large  # noqa: E402
from podnex.warmup import warm_up  # noqa: E402


class SyncChainASGIHandler(ASGIHandler):
    """Django's ASGI handler running the middleware chain and the view in ONE thread hop.

    Every view and most middleware here are sync. Django's stock ASGI handler builds the chain
    for async, so each sync piece costs a hop between the event loop and the request's
    thread: into the chain, back out to the async core below the first sync-only middleware,
    into the thread again for each sync process_view (CSRF, rate-limit headers) and for the
    view. Here the chain is built sync, as under WSGI, and the whole of it runs in one
    `sync_to_async` call on the request's thread; reading the body, streaming the response
    (async iterators included) and the request signals stay Django's ASGI code."""

    def __init__(self):
        BaseHandler.__init__(self)
        self.load_middleware(is_async=False)

    async def get_response_async(self, request):
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)


django_application = SyncChainASGIHandler()


class BodyLimitASGI:
    """Refuses an /api/ request body larger than API_MAX_BODY_BYTES as it streams in.

    Django's ASGI handler reads the whole body (to a temporary file) before any middleware
    runs, so a chunked body without Content-Length would be stored in full first; here the
    bytes are counted on arrival and the request is answered 413 once past the limit."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            return await self.app(scope, receive, send)
        limit = body_limit(scope["path"])
        received = 0
        too_large = False

        async def counting_receive():
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    too_large = True
                    # Django sees a disconnect and stops; we answer below.
                    return {"type": "http.disconnect"}
            return message

        started = False

        async def guarded_send(message):
            nonlocal started
            if too_large:
                return
            started = True
            await send(message)

        await self.app(scope, counting_receive, guarded_send)
        if too_large and not started:
            response = payload_too_large(scope["path"])
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(response.content)).encode()),
                        (b"connection", b"close"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": response.content})


application = BodyLimitASGI(django_application)
warm_up()
