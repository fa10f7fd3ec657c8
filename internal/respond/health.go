package respond

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
)

// healthEvent is the part of an AWS Health event (as EventBridge delivers
// it) that names exposed keys.
type healthEvent struct {
	Source    string   `json:"source"`
	Resources []string `json:"resources"`
	Detail    struct {
		EventTypeCode    string `json:"eventTypeCode"`
		AffectedEntities []struct {
			EntityValue string `json:"entityValue"`
		} `json:"affectedEntities"`
		EventDescription []struct {
			LatestDescription string `json:"latestDescription"`
		} `json:"eventDescription"`
	} `json:"detail"`
}

// ExposedEventType is the AWS Health event type AWS sends when it finds a
// key of the account on a public site.
const ExposedEventType = "AWS_RISK_CREDENTIALS_EXPOSED"

var keyIDRe = regexp.MustCompile(`\b(?:AKIA|ASIA)[A-Z2-7]{16}\b`)

// KeysFromHealthEvent returns the access key ids an AWS_RISK_CREDENTIALS_EXPOSED
// event names: its affected entities, else its resources, else the ids in
// its description.
func KeysFromHealthEvent(data []byte) ([]string, error) {
	var ev healthEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		return nil, fmt.Errorf("read health event: %w", err)
	}
	if ev.Detail.EventTypeCode != ExposedEventType {
		return nil, fmt.Errorf("read health event: eventTypeCode %q, want %s", ev.Detail.EventTypeCode, ExposedEventType)
	}
	var keys []string
	add := func(s string) {
		for _, k := range keyIDRe.FindAllString(s, -1) {
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	for _, e := range ev.Detail.AffectedEntities {
		add(e.EntityValue)
	}
	for _, r := range ev.Resources {
		add(r)
	}
	if len(keys) == 0 {
		for _, d := range ev.Detail.EventDescription {
			add(d.LatestDescription)
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("read health event: it names no access key id")
	}
	return keys, nil
}
