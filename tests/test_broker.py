"""The embedded broker (kombu's filesystem transport with atomic writes) loses nothing and
never hands a consumer a half-written message while producers are writing."""

import threading

from kombu import Connection, Exchange, Queue

MESSAGES = 300


def test_a_consumer_racing_producers_reads_every_message_whole(tmp_path):
    options = {
        "data_folder_in": str(tmp_path),
        "data_folder_out": str(tmp_path),
        "control_folder": str(tmp_path / "control"),
        "store_processed": False,
    }
    queue = Queue("race", Exchange("race"), routing_key="race")
    received: list[int] = []
    body = "x" * 50_000  # big enough that a torn write would be visible

    def produce(offset: int) -> None:
        with Connection(
            "filesystem://", transport="podnex.broker:Transport", transport_options=options
        ) as conn:
            producer = conn.Producer()
            for n in range(offset, offset + MESSAGES // 2):
                producer.publish(
                    {"n": n, "body": body},
                    exchange=queue.exchange,
                    routing_key="race",
                    declare=[queue],
                )

    producers = [threading.Thread(target=produce, args=(i * MESSAGES // 2,)) for i in range(2)]
    with Connection(
        "filesystem://", transport="podnex.broker:Transport", transport_options=options
    ) as conn:
        simple = conn.SimpleQueue(queue)
        for thread in producers:
            thread.start()
        while len(received) < MESSAGES:
            message = simple.get(timeout=10)
            assert message.payload["body"] == body
            received.append(message.payload["n"])
            message.ack()
        simple.close()
    for thread in producers:
        thread.join()
    assert sorted(received) == list(range(MESSAGES))
