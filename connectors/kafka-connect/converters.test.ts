import { describe, expect, it } from 'vitest';
import { apicurioAvroConverterConfig } from './converters.js';

describe('apicurioAvroConverterConfig', () => {
  it('makes Apicurio write Confluent-framed Avro with content ids, whole schemas and TopicNameStrategy subjects', () => {
    expect(apicurioAvroConverterConfig('value.converter', 'http://127.0.0.1:8081/apis/ccompat/v7/')).toEqual({
      'value.converter': 'io.apicurio.registry.utils.converter.AvroConverter',
      'value.converter.apicurio.registry.url': 'http://127.0.0.1:8081/apis/registry/v2',
      'value.converter.apicurio.registry.auto-register': 'true',
      'value.converter.apicurio.registry.dereference-schema': 'true',
      'value.converter.apicurio.registry.as-confluent': 'true',
      'value.converter.apicurio.registry.id-handler': 'io.apicurio.registry.serde.Legacy4ByteIdHandler',
      'value.converter.apicurio.registry.use-id': 'contentId',
      'value.converter.apicurio.registry.headers.enabled': 'false',
      'value.converter.apicurio.registry.artifact-resolver-strategy':
        'io.apicurio.registry.serde.strategy.TopicIdStrategy',
    });
  });

  it.each(['http://127.0.0.1:8081', 'http://127.0.0.1:8081/apis/registry/v2'])(
    'refuses %s, which is not a Confluent-compatibility URL of Apicurio',
    (url) => {
      expect(() => apicurioAvroConverterConfig('key.converter', url)).toThrow(
        `Expected the Confluent API URL of an Apicurio registry (ending in /apis/ccompat/v7), got ${url}`,
      );
    },
  );
});
