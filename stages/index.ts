/**
 * cdc-sync's stage API, `cdc-sync/stages`: everything a stage package needs to turn ERP row changes into canonical
 * events, and nothing of the pipeline's internals. A stage package default-exports
 * `defineStagePackage({ name, stages })`; a pipeline loads it from `stages.modules` and runs the stages its
 * `transforms` section lists. `transforms/README.md` is the guide; `cdc-sync/stages/testing` has the test helpers.
 *
 * The API is versioned by {@link STAGE_API_VERSION}: what is exported here changes only with a new version.
 */

export { z } from 'zod';

export {
  defineStage,
  defineStagePackage,
  emit,
  fail,
  skip,
  STAGE_API_VERSION,
  tableMatches,
  type SourceColumn,
  type SourceTableDefinition,
  type StagePackage,
  type StageResult,
  type StageSetup,
  type SharedSettings,
  type StageSpec,
  type TransformDefinition as StageDefinition,
} from '../core/stage.js';

export {
  OP,
  type ChangeEvent,
  type Op,
  type Row,
  type SourceInfo,
  type TableRef,
  type TransactionInfo,
} from '../core/envelope.js';

export { TransformError } from '../core/errors.js';

export {
  ORDER_STATUS,
  type CanonicalEvent,
  type CanonicalEventType,
  type CanonicalPayloads,
  type DecimalString,
  type EventMeta,
  type OrderStatus,
} from '../core/canonical.js';

export { canonicalEvent, eventMeta } from '../transforms/event-meta.js';

export {
  COLUMN,
  columnType,
  INVALID,
  missingImage,
  nullable,
  readColumns,
  rowRef,
  sameDecimal,
  skipRowlessChange,
  type ColumnSpec,
  type ColumnsResult,
  type ColumnType,
  type Image,
  type RowOf,
} from '../transforms/rows.js';

export {
  constant,
  fromColumn,
  fromColumns,
  sumOfColumns,
  type ColumnValue,
  type FieldSource,
} from '../transforms/column-values.js';

export { defineOrderNumber, type OrderNumber } from '../transforms/order-number.js';

export { stockLevelStage, type StockLevelStageSpec } from '../transforms/stock-level-stage.js';

export {
  orderHeaderStage,
  type OrderHeaderStageConfig,
  type OrderHeaderStageSpec,
} from '../transforms/order-header-stage.js';

export { orderLineStage, type OrderLineStageSpec } from '../transforms/order-line-stage.js';

export {
  arrivalAt,
  emitOnArrival,
  type Arrival,
  type ArrivalEvent,
  type StatusTarget,
} from '../transforms/transitions.js';
