"""Issue 12: a document the server has validated once is not validated again (a line sends one mutation all day)."""
from api.schema import validated

QUERY = "query { items(first: 1) { edges { node { code } } } }"
INVALID = "query { items(first: 1) { edges { node { noSuchField } } } }"


def test_the_same_document_is_validated_once_and_its_errors_still_come_back(api):
    cache = validated
    api(QUERY)
    before = cache.cache_info()
    api(QUERY)
    api(QUERY)
    after = cache.cache_info()
    assert (after.hits - before.hits, after.misses - before.misses) == (2, 0)
    for _ in range(2):  # a refused document is refused every time, from the cache as well
        body = api.raw(INVALID, {}).json()
        assert "noSuchField" in body["errors"][0]["message"]
        assert body.get("data") is None
