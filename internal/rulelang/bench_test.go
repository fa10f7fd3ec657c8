package rulelang

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/cloudtrail"
)

// benchRules are a team's rules file and one Sigma rule: typed fields and
// raw paths, literals, globs and a threshold.
const benchRules = `rules:
  - id: B-SES-FROM-CI
    match:
      eventSource: ses.amazonaws.com
      userIdentity.type: {in: [IAMUser, AssumedRole]}
    threshold: {count: 50, window: 1h, by: userIdentity.accessKeyId}
  - id: B-ADMIN-POLICY
    match:
      eventName: {prefix: Attach}
      requestParameters.policyArn: {suffix: /AdministratorAccess}
  - id: B-OUTSIDE
    match:
      sourceIPAddress: {not: {cidr: [10.0.0.0/8, 192.168.0.0/16]}}
      userAgent: {regex: '(?i)(kali|parrot|pentoo)'}
`

// BenchmarkDetectorInvictus: benchRules and sigmaStopLogging over the
// invictus events (already decoded), reported per event.
func BenchmarkDetectorInvictus(b *testing.B) {
	files, _ := filepath.Glob(filepath.Join(awstest.CorpusPath(b, "cloudtrail/invictus-aws-dataset"), "*.json"))
	var events []cloudtrail.Event
	for _, f := range files {
		err := cloudtrail.ReadFile(context.Background(), f, cloudtrail.Options{}, func(e cloudtrail.Event) error {
			events = append(events, e)
			return nil
		})
		if err != nil {
			b.Fatalf("read %s: %v", f, err)
		}
	}
	dir := b.TempDir()
	for name, src := range map[string]string{"team.yml": benchRules, "stop.yml": sigmaStopLogging} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	rules, err := Load(dir, func(err error) { b.Fatal(err) })
	if err != nil {
		b.Fatal(err)
	}
	d := NewDetector(rules, nil)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := d.Observe(context.Background(), &events[i%len(events)]); err != nil {
			b.Fatal(err)
		}
	}
}
