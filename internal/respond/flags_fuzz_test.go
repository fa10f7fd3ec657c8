package respond

import (
	"encoding/json"
	"testing"

	"github.com/keywarden/keywarden/internal/cloudtrail"
)

// FuzzReviewOnHostileFields: request and response elements come from logs
// an attacker can shape; no shape may panic the review.
func FuzzReviewOnHostileFields(f *testing.F) {
	f.Add("CreateUser", `{"userName":"u"}`, `{"user":{"userName":"u"}}`)
	f.Add("RunInstances", `{"instanceType":"p3.2xlarge","instancesSet":{"items":[{"maxCount":1}]}}`, `{"instancesSet":{"items":[{"instanceId":"i-1"}]}}`)
	f.Add("PutUserPolicy", `{"userName":"u","policyName":"p","policyDocument":"%7B%22Statement%22%3A1%7D"}`, `null`)
	f.Add("AssumeRole", `{"roleArn":7}`, `{"credentials":{"accessKeyId":"ASIA","expiration":[1]}}`)
	f.Add("PutEventSelectors", `{"eventSelectors":[1,{"excludeManagementEventSources":"x"}]}`, `[]`)
	f.Fuzz(func(t *testing.T, name, req, resp string) {
		for _, src := range []string{"", "iam.amazonaws.com", "ec2.amazonaws.com", "sts.amazonaws.com", "cloudtrail.amazonaws.com"} {
			e := cloudtrail.Event{EventName: name, EventSource: src, RequestParameters: json.RawMessage(req),
				ResponseElements: json.RawMessage(resp)}
			e.UserIdentity.AccessKeyID = "AKIAIOSFODNN7EXAMPLE"
			events := []cloudtrail.Event{e, e}
			Created(events)
			RedFlags(events)
			Follow(e.UserIdentity.AccessKeyID, events)
			Summarize(events)
		}
	})
}
