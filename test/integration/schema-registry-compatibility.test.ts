import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { describe, expect, it } from 'vitest';
import { services, uniqueName } from './services.js';

const v1 = {
  type: 'record',
  name: 'OrderProbe',
  namespace: 'test.cdcsync',
  fields: [{ name: 'orderNumber', type: 'string' }],
};
// BACKWARD: readers of v2 must read v1 data, so a new field without a default is incompatible.
const incompatible = { ...v1, fields: [...v1.fields, { name: 'currency', type: 'string' }] };
const compatible = { ...v1, fields: [...v1.fields, { name: 'currency', type: 'string', default: 'EUR' }] };

type RegistryReply = { status: number; body: Record<string, unknown> };

describe('schema registry compatibility', () => {
  const { schemaRegistryUrl } = services();
  const registry = new SchemaRegistry({ host: schemaRegistryUrl });

  async function call(method: string, path: string, body?: unknown): Promise<RegistryReply> {
    const response = await fetch(`${schemaRegistryUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it('defaults to BACKWARD compatibility, as Confluent’s registry does', async () => {
    expect(await call('GET', '/config')).toEqual({ status: 200, body: { compatibilityLevel: 'BACKWARD' } });
  });

  it('refuses a BACKWARD-incompatible schema with the registry’s own error and keeps the subject unchanged', async () => {
    const subject = `${uniqueName('compat')}-value`;
    expect(await call('PUT', `/config/${subject}`, { compatibility: 'BACKWARD' })).toEqual({
      status: 200,
      body: { compatibility: 'BACKWARD' },
    });
    const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(v1) }, { subject });

    const check = await call('POST', `/compatibility/subjects/${subject}/versions/latest`, {
      schema: JSON.stringify(incompatible),
    });
    expect(check.status).toBe(200);
    expect(check.body['is_compatible']).toBe(false);

    const refused = await call('POST', `/subjects/${subject}/versions`, { schema: JSON.stringify(incompatible) });
    expect(refused.status).toBe(409);
    expect(refused.body['message']).toEqual(expect.stringContaining(subject));

    // The client surfaces the registry's status and message unchanged.
    const clientError = await registry
      .register({ type: SchemaType.AVRO, schema: JSON.stringify(incompatible) }, { subject })
      .then(
        () => undefined,
        (error: unknown) => error as { status?: number; message: string },
      );
    expect(clientError?.status).toBe(409);
    expect(clientError?.message).toBe(`Confluent_Schema_Registry - ${String(refused.body['message'])}`);

    expect(
      (await fetch(`${schemaRegistryUrl}/subjects/${subject}/versions`).then((r) => r.json())) as number[],
    ).toEqual([1]);
    expect(await registry.getLatestSchemaId(subject)).toBe(id);
  });

  it('accepts a BACKWARD-compatible evolution as the next version', async () => {
    const subject = `${uniqueName('compat')}-value`;
    await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(v1) }, { subject });
    const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(compatible) }, { subject });
    expect(
      (await fetch(`${schemaRegistryUrl}/subjects/${subject}/versions`).then((r) => r.json())) as number[],
    ).toEqual([1, 2]);
    expect(await registry.getLatestSchemaId(subject)).toBe(id);
  });
});
