/** The outbox key of the email telling an assignee about a task (activity and workflow both derive it). */
export const assignmentNotificationKey = (taskId: string, assignee: string) => `task:${taskId}:assigned:${assignee}`;

/** Workflow type of the run delivering one outbox email (workflows/notifications.ts). */
export const NOTIFICATION_DELIVERY_WORKFLOW = 'notificationDelivery';

/** Workflow id of the run delivering one outbox email. */
export const notificationDeliveryWorkflowId = (notificationKey: string) =>
  `notify-${notificationKey.replace(/[^A-Za-z0-9:@._-]/g, '_')}`;

export interface NotificationDeliveryInput {
  notificationKey: string;
}
