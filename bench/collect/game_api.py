#!/usr/bin/env python
# The reference app: game_api.py from the course's week-12 session (Flask +
# kafka-python), as listed in the handout, with one change: the bootstrap
# address comes from $KAFKA_BOOTSTRAP (the course hard-codes 'kafka:29092').
# Run with: KAFKA_BOOTSTRAP=127.0.0.1:9092 FLASK_APP=game_api.py flask run
# Used by bench/collect/run and tests/integration/test_30_collect_reference.py.
import json
import os
from kafka import KafkaProducer
from flask import Flask, request

app = Flask(__name__)
producer = KafkaProducer(bootstrap_servers=os.environ.get('KAFKA_BOOTSTRAP', 'kafka:29092'))


def log_to_kafka(topic, event):
    event.update(request.headers)
    producer.send(topic, json.dumps(event).encode())


@app.route("/")
def default_response():
    default_event = {'event_type': 'default'}
    log_to_kafka('events', default_event)
    return "This is the default response!\n"


@app.route("/purchase_a_sword")
def purchase_a_sword():
    purchase_sword_event = {'event_type': 'purchase_sword'}
    log_to_kafka('events', purchase_sword_event)
    return "Sword Purchased!\n"


@app.route("/purchase_a_knife")
def purchase_a_knife():
    purchase_knife_event = {'event_type': 'purchase_knife',
                            'description': 'very sharp knife'}
    log_to_kafka('events', purchase_knife_event)
    return "Knife Purchased!\n"
