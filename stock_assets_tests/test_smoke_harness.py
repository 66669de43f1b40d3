import sqlalchemy as sa


def test_harness_parts_are_real(pg_engine, s3_client, s3_bucket, sample_server):
    with pg_engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM daily_prices")).scalar() == 0
    s3_client.put_object(Bucket=s3_bucket, Key="k", Body=b"x")
    assert s3_client.get_object(Bucket=s3_bucket, Key="k")["Body"].read() == b"x"
    assert sample_server.url.startswith("http://127.0.0.1:")
