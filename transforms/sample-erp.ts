import { defineOrderNumber } from './order-number.js';

/**
 * The sample ERP's settings that several of its stages share, each declared once: its documents are keyed by code,
 * so the order number is the `OrderNumber` column of the header and of every line.
 */
export const SAMPLE_ERP_ORDER_NUMBER = defineOrderNumber('OrderNumber');
