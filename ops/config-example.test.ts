import { describe, expect, it } from 'vitest';
import { SAMPLE_ERP_STAGES } from '../transforms/index.js';
import { loadPipelineConfig } from './pipeline-config.js';

describe('config/pipeline.example.yaml', () => {
  it('is a valid config that reads its endpoints from the environment', () => {
    const config = loadPipelineConfig('config/pipeline.example.yaml', {
      MONGODB_URI: 'mongodb://app:secret@db:27017/',
    });
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(config.mongodb.uri).toBe('mongodb://app:secret@db:27017/');
    expect(config.source.tables).toHaveLength(7);
    expect(Object.keys(config.transforms)).toEqual(Object.keys(SAMPLE_ERP_STAGES));
    expect(config.sinks).toEqual({ inventory_availability: { lowStockThreshold: '5.000' } });
  });
});
