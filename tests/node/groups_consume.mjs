// groups_consume.mjs: a kafkajs 2.2.4 consumer-group member against sluice
// broker (tests/integration/test_20_groups_clients.py).
//
//   node groups_consume.mjs BROKER TOPIC GROUP COUNT
//       join GROUP (fromBeginning), read COUNT messages, commit them, leave;
//       print the values as one JSON array line
//   node groups_consume.mjs describe BROKER GROUP
//       print admin.listGroups() and admin.fetchOffsets() as JSON
//
// Exits 0 on success, 1 with the error on stderr.
import { Kafka, logLevel } from 'kafkajs';

const args = process.argv.slice(2);
const describe = args[0] === 'describe';
const [broker, topic, group, countArg] = describe ? [args[1], null, args[2], '0'] : args;
const kafka = new Kafka({
  clientId: 'sluice-groups-test',
  brokers: [broker],
  logLevel: process.env.KAFKAJS_DEBUG ? logLevel.DEBUG : logLevel.NOTHING,
  retry: { retries: 5 },
});

async function consume() {
  const count = Number(countArg);
  const consumer = kafka.consumer({ groupId: group, sessionTimeout: 10000, heartbeatInterval: 500 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const values = [];
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${values.length} of ${count} messages in 40 s`)), 40000);
    consumer.run({
      autoCommit: true,
      eachMessage: async ({ message }) => {
        if (values.length < count) values.push(message.value.toString());
        if (values.length >= count) {
          clearTimeout(timer);
          resolve();
        }
      },
    }).catch(reject);
  });
  await consumer.disconnect(); // commits the resolved offsets, LeaveGroup v3
  console.log(JSON.stringify(values));
}

async function describeGroup() {
  const admin = kafka.admin();
  await admin.connect();
  const groups = await admin.listGroups();
  const topics = await admin.fetchOffsets({ groupId: group });
  await admin.disconnect();
  console.log(JSON.stringify({ groups: groups.groups, topics }));
}

try {
  if (describe) await describeGroup();
  else await consume();
  process.exit(0);
} catch (e) {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
}
