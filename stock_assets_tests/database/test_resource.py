import pytest

from stock_assets.database.resource import DatabaseResource, DatabaseUnavailable


def test_unreachable_database_names_host_and_database_but_not_the_password():
    database = DatabaseResource(url="postgresql+psycopg://analyst:s3cr3t-pw@127.0.0.1:9/prices")
    with pytest.raises(DatabaseUnavailable) as raised:
        database.validate_connection()
    message = str(raised.value)
    assert "127.0.0.1:9" in message and "database prices" in message
    assert "s3cr3t-pw" not in message
    assert "s3cr3t-pw" not in database.describe()
