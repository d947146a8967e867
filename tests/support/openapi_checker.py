"""Holds real HTTP replies (and the requests that got them) to ``/api/openapi.json``."""

from openapi_schema_validator import OAS31Validator

from wall.web import openapi

JSON = "application/json"


class Checker:
    """``check`` validates a reply against the document with OAS31Validator;
    ``seen`` is every ``(method, path, status)`` checked."""

    def __init__(self, app):
        self.client = app.test_client()
        self.doc = self.client.get(openapi.PATH).json
        self.seen = []

    def operation(self, path, method):
        return self.doc["paths"][path][method.lower()]

    def operations(self, tag=None):
        """Every ``(method, path)`` of the document (with ``tag``)."""
        return {
            (method.upper(), path)
            for path, operations in self.doc["paths"].items()
            for method, operation in operations.items()
            if tag is None or tag in operation.get("tags", ())
        }

    def response_spec(self, path, method, status):
        responses = self.operation(path, method)["responses"]
        assert str(status) in responses, (method, path, status)
        spec = responses[str(status)]
        if "$ref" in spec:
            spec = self.doc["components"]["responses"][spec["$ref"].rsplit("/", 1)[1]]
        return spec

    def validate(self, schema, instance):
        OAS31Validator({**schema, "components": self.doc["components"]}).validate(instance)

    def request(self, path, method, body, media=JSON):
        """``body`` fits the request body ``path``'s ``method`` documents."""
        content = self.operation(path, method)["requestBody"]["content"]
        self.validate(content[media]["schema"], body)
        return body

    def check(self, path, method, reply):
        """``reply``'s status, media type and body fit ``path``'s ``method``."""
        spec = self.response_spec(path, method, reply.status_code)
        content = spec.get("content", {})
        assert reply.mimetype in content, (path, reply.status_code, reply.mimetype)
        if reply.mimetype == JSON:
            self.validate(content[JSON]["schema"], reply.json)
        self.seen.append((method, path, reply.status_code))
        return reply
