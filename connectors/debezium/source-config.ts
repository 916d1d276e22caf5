import { z } from 'zod';

/** The tables of the sample ERP, captured by default. */
export const SAMPLE_ERP_TABLES = [
  'dbo.InventoryBalance',
  'dbo.SalesOrderHeader',
  'dbo.SalesOrderLine',
  'dbo.PaymentTransaction',
  'dbo.Shipment',
  'dbo.ReturnAuthorization',
  'dbo.Refund',
] as const;

/** The Debezium connectors whose topics the pipeline reads. */
export const SOURCE_CONNECTORS = ['sqlserver', 'postgresql', 'mysql'] as const;

/** How the source's table and column names map onto the names stages expect. */
export const NAME_MAPPINGS = ['as-is', 'snake-to-pascal'] as const;

/**
 * The pipeline's `source` section: which Debezium connector writes the source topics, under which prefix and
 * database, for which tables. The envelope reader (`envelope.ts`) takes its settings from here, the Kafka Connect
 * connector (`connectors/kafka-connect/`) captures these tables.
 */
export const sourceConfigSchema = z.object({
  connector: z
    .enum(SOURCE_CONNECTORS)
    .default('sqlserver')
    .describe('The Debezium connector that writes the source topics'),
  topicPrefix: z.string().min(1).default('erp').describe("The connector's topic.prefix"),
  database: z.string().min(1).default('ErpDemo').describe('The ERP database name, as in the topic names'),
  tables: z
    .array(z.string().regex(/^[^.\s]+\.[^.\s]+$/, 'expected schema.table'))
    .min(1)
    .default([...SAMPLE_ERP_TABLES])
    .describe('Captured tables as schema.table'),
  names: z
    .enum(NAME_MAPPINGS)
    .optional()
    .describe(
      'How table and column names of the source map onto the names transforms expect (SQL Server PascalCase): snake-to-pascal turns sales_order_header into SalesOrderHeader; default snake-to-pascal for postgresql, as-is otherwise',
    ),
  schemas: z
    .record(z.string().min(1), z.string().regex(/^[^.\s]+$/, 'expected a schema name without dots'))
    .default({})
    .describe(
      "The source's schema names as the stages name them, e.g. {public: dbo} runs stages written for SQL Server's dbo schema on PostgreSQL's public one (for mysql, the database is the schema); unlisted schemas keep their names",
    ),
});

/** The validated `source` section. */
export type SourceConfig = z.output<typeof sourceConfigSchema>;

/**
 * The Debezium topic of a captured table (`schema.table` of `source.tables`): `<prefix>.<database>.<schema>.<table>`
 * for SQL Server (`erp.ErpDemo.dbo.SalesOrderHeader`), `<prefix>.<schema>.<table>` for PostgreSQL, and
 * `<prefix>.<database>.<table>` for MySQL, whose captured tables are named `database.table`.
 */
export function sourceTopic(source: SourceConfig, table: string): string {
  return source.connector === 'sqlserver'
    ? `${source.topicPrefix}.${source.database}.${table}`
    : `${source.topicPrefix}.${table}`;
}
