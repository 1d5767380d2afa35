import type { Scenario } from '../scenario';
import { burst } from './burst';

/**
 * Every scenario, in the order a full run takes them: the ones that leave the least behind first
 * (they share one system), the one that leaves thousands of sleeping workflows last.
 */
export const SCENARIOS: Scenario[] = [burst];
