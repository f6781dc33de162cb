// PLACEHOLDER: the risk helper replaces this file.
export async function customerRisk(): Promise<void> {}
