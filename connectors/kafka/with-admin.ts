import { type Admin, type Kafka } from 'kafkajs';
import { type RecordLocation } from '../../core/errors.js';
import { classifyKafkaError } from './classify-error.js';

/**
 * Runs `work` on a kafkajs admin client connected for it alone, and
 * disconnects afterwards. Kafka errors are classified (a retriable
 * `SourceUnavailableError` when Kafka cannot be reached, naming `location`);
 * other errors, such as a `ConfigError` the work throws, pass unchanged.
 */
export async function withAdmin<T>(
  kafka: Kafka,
  work: (admin: Admin) => Promise<T>,
  location: RecordLocation = {},
): Promise<T> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    return await work(admin);
  } catch (error: unknown) {
    throw classifyKafkaError(error, location);
  } finally {
    await admin.disconnect();
  }
}
