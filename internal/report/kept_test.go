package report

import (
	"github.com/keywarden/keywarden/internal/audit"
)

// kept completes a fixture's well-kept account: a security contact, and
// on each trail's log group a metric filter and a notifying alarm for every
// monitoring check, and an owner tag on every user, role, analyzer and
// trail, so that only what a test sets up is reported.
func kept(inv audit.Inventory) audit.Inventory {
	const topic = "arn:aws:sns:us-east-1:123456789012:security"
	inv.SecurityContact = audit.Yes
	inv.LogGroups = map[string]audit.LogGroup{}
	owner := func() map[string]string { return map[string]string{"owner": "platform"} }
	for i := range inv.Users {
		if inv.Users[i].Tags == nil {
			inv.Users[i].Tags = owner()
		}
	}
	for i := range inv.Roles {
		inv.Roles[i].Tags = owner()
	}
	for i := range inv.Analyzers {
		for j := range inv.Analyzers[i].Analyzers {
			inv.Analyzers[i].Analyzers[j].Tags = owner()
		}
	}
	for i := range inv.Trails {
		inv.Trails[i].TagsRead, inv.Trails[i].Tags = true, owner()
	}
	for _, t := range inv.Trails {
		g := audit.LogGroup{ARN: t.LogGroupARN, Subscribers: map[string]int{topic: 1}}
		for id, pattern := range audit.MonitorPatterns() {
			m := audit.Metric{Namespace: "CISBenchmark", Name: id}
			g.Filters = append(g.Filters, audit.MetricFilter{Name: id, Pattern: pattern, Metrics: []audit.Metric{m}})
			g.Alarms = append(g.Alarms, audit.Alarm{Name: id, Metric: m, Actions: []string{topic}, Enabled: true})
		}
		inv.LogGroups[t.LogGroupARN] = g
	}
	return inv
}
