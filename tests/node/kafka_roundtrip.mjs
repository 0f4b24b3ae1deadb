// kafka_roundtrip.mjs: kafkajs against a sluice broker, for
// tests/integration/test_11_broker_clients.py.
//
//   node kafka_roundtrip.mjs produce BROKER TOPIC COUNT [gzip]
//       create TOPIC (admin), send COUNT messages "kjs-<i>" with keys "k<i%3>"
//       (optionally gzip-compressed), then print the admin's
//       fetchTopicOffsets as one JSON line
//   node kafka_roundtrip.mjs consume BROKER TOPIC COUNT GROUP
//       a group consumer from the beginning; print the first COUNT values as
//       one JSON array line, then disconnect
//   node kafka_roundtrip.mjs configs BROKER TOPIC
//       create TOPIC with retention.ms=-1, alter its configs to
//       retention.ms=3600000 and segment.ms=60000 (admin), then print the
//       topic's non-default configs, as describeConfigs reports them, as one
//       JSON object line
//
// Exits 0 on success, 1 with the error on stderr.
import kafkajs from 'kafkajs';

// kafkajs is CommonJS: ConfigResourceTypes is not a named export.
const { Kafka, CompressionTypes, ConfigResourceTypes, logLevel } = kafkajs;

const [mode, broker, topic, countArg, extra] = process.argv.slice(2);
const count = Number(countArg);
const kafka = new Kafka({
  clientId: 'sluice-test',
  brokers: [broker],
  logLevel: process.env.KAFKAJS_DEBUG ? logLevel.DEBUG : logLevel.NOTHING,
  retry: { retries: 3 },
});

async function produce() {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  const producer = kafka.producer();
  await producer.connect();
  const messages = [];
  for (let i = 0; i < count; i++) messages.push({ key: `k${i % 3}`, value: `kjs-${i}` });
  await producer.send({
    topic,
    messages,
    compression: extra === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
  });
  await producer.disconnect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  console.log(JSON.stringify(offsets));
}

async function consume() {
  const consumer = kafka.consumer({ groupId: extra, sessionTimeout: 10000 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const values = [];
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${values.length} of ${count} messages in 30 s`)), 30000);
    consumer.run({
      eachMessage: async ({ message }) => {
        values.push(message.value.toString());
        if (values.length >= count) {
          clearTimeout(timer);
          resolve();
        }
      },
    }).catch(reject);
  });
  await consumer.disconnect();
  console.log(JSON.stringify(values.slice(0, count)));
}

async function configs() {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '-1' }] }],
  });
  await admin.alterConfigs({
    resources: [{
      type: ConfigResourceTypes.TOPIC,
      name: topic,
      configEntries: [{ name: 'retention.ms', value: '3600000' }, { name: 'segment.ms', value: '60000' }],
    }],
  });
  const { resources } = await admin.describeConfigs({
    resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }],
  });
  await admin.disconnect();
  const own = {};
  for (const e of resources[0].configEntries) if (!e.isDefault) own[e.configName] = e.configValue;
  console.log(JSON.stringify(own));
}

try {
  if (mode === 'produce') await produce();
  else if (mode === 'configs') await configs();
  else if (mode === 'consume') await consume();
  else throw new Error(`unknown mode ${mode}`);
  process.exit(0);
} catch (e) {
  console.error(`kafka_roundtrip.mjs: ${e.name}: ${e.message}`);
  process.exit(1);
}
