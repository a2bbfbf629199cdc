from tests.ops.conftest import asgi_server, moto_server, s3, s3_endpoint  # noqa: F401
from tests.podcasts.providers.conftest import openai_server, unreal  # noqa: F401
