import type { Scenario } from '../scenario';
import { activationLag } from './activation-lag';
import { api } from './api';
import { burst } from './burst';
import { sleepingDocuments } from './sleeping-documents';
import { timeSkippingYear } from './time-skipping-year';

/**
 * Every scenario, in the order a full run takes them: the ones that leave the least behind first
 * (they share one system), the one that leaves thousands of sleeping workflows last.
 */
export const SCENARIOS: Scenario[] = [timeSkippingYear, activationLag, api, burst, sleepingDocuments];
