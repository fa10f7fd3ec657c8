package rotate

// SecretNew names the new key's secret in the journal, for tests that
// check when it is dropped.
const SecretNew = secretNew
