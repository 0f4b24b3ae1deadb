// groups_idempotent_produce.mjs: a kafkajs 2.2.4 idempotent producer
// (InitProducerId, then Produce v7 with sequences) against sluice broker
// (tests/integration/test_20_groups_idempotent.py).
//
//   node groups_idempotent_produce.mjs BROKER TOPIC BATCHES
//       send BATCHES batches of two messages a<i>, b<i>; print "ok"
import { Kafka, logLevel } from 'kafkajs';

const [broker, topic, batchesArg] = process.argv.slice(2);
const kafka = new Kafka({
  clientId: 'sluice-idempotent-test',
  brokers: [broker],
  logLevel: process.env.KAFKAJS_DEBUG ? logLevel.DEBUG : logLevel.NOTHING,
});

try {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  for (let i = 0; i < Number(batchesArg); i++)
    await producer.send({ topic, messages: [{ value: `a${i}` }, { value: `b${i}` }] });
  await producer.disconnect();
  console.log('ok');
  process.exit(0);
} catch (e) {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
}
