package respond

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/keywarden/keywarden/internal/bounded"
)

// Keys are the exposed keys of a response: the access key id given (args,
// at most one), or those the AWS Health event in the file healthEvent
// names ("-": read from stdin).
func Keys(args []string, healthEvent string, stdin io.Reader) ([]string, error) {
	switch {
	case len(args) == 1 && healthEvent != "":
		return nil, errors.New("give an access key id or --health-event, not both")
	case len(args) == 1:
		if !strings.HasPrefix(args[0], "AKIA") && !strings.HasPrefix(args[0], "ASIA") || len(args[0]) != 20 {
			return nil, fmt.Errorf("%q is not an access key id (AKIA… or ASIA…, 20 characters)", args[0])
		}
		return args, nil
	case healthEvent == "":
		return nil, errors.New("give the exposed access key id, or --health-event FILE")
	}
	data, err := readHealthEvent(healthEvent, stdin)
	if err != nil {
		return nil, fmt.Errorf("--health-event: %w", err)
	}
	return KeysFromHealthEvent(data)
}

// maxHealthEvent bounds what --health-event reads: an event is a few
// kilobytes, and a FIFO or /dev/zero must not exhaust memory.
const maxHealthEvent = 1 << 20

// readHealthEvent reads the file name ("-": stdin) whole, refusing one past
// maxHealthEvent rather than parsing a part of it.
func readHealthEvent(name string, stdin io.Reader) ([]byte, error) {
	r, shown := stdin, "stdin"
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r, shown = f, name
	}
	data, err := bounded.ReadAll(r, maxHealthEvent, "an AWS Health event")
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", shown, err)
	}
	return data, nil
}

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
