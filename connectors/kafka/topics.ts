import { type Kafka } from 'kafkajs';
import { withAdmin } from './with-admin.js';

/**
 * Creates whichever of the topics do not exist yet, with the given partition
 * count, and waits for their leaders. Existing topics keep their settings.
 * Workers call this before subscribing, because a consumer cannot subscribe
 * to a topic that does not exist, and Debezium creates a table's topic only
 * with its first change.
 */
export async function ensureTopics(kafka: Kafka, topics: readonly string[], numPartitions: number): Promise<string[]> {
  return withAdmin(kafka, async (admin) => {
    const existing = new Set(await admin.listTopics());
    const missing = [...new Set(topics)].filter((topic) => !existing.has(topic));
    if (missing.length > 0) {
      await admin.createTopics({ topics: missing.map((topic) => ({ topic, numPartitions })), waitForLeaders: true });
    }
    return missing;
  });
}
