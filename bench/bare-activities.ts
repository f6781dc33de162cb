// The bare reference's activities: named as the checkout's steps, doing nothing, so that what
// the bare workflow measures is Temporal's own work (schedule, dispatch, complete).
export const bareActivities = {
  async createOrder(): Promise<void> {},
  async initiatePayment(): Promise<void> {},
  async sendNotification(): Promise<void> {},
};

export type BareActivities = typeof bareActivities;
