package lambda

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ErrUnrecognized marks a payload of no shape the handler knows. Retrying
// it cannot help, so the handler logs and drops it instead of failing.
var ErrUnrecognized = errors.New("unrecognized lambda payload")

// maxDepth bounds envelope nesting (S3 event in SNS in SQS is 3 deep), so a
// hostile payload of envelopes within envelopes cannot recurse without end.
const maxDepth = 5

// objectRef is one S3 object a notification announced.
type objectRef struct {
	Bucket, Key string
}

// work is what one invocation carries: log objects to read, CloudTrail
// records delivered whole (EventBridge) and the schedule's tick of the
// canary check. Skipped counts notifications that carry nothing to do (S3's
// test event, other EventBridge events).
type work struct {
	Objects   []objectRef
	Records   []json.RawMessage
	Scheduled bool
	Skipped   int
}

// probe holds the top-level fields that tell the envelopes apart. Field
// names are matched case-insensitively by encoding/json, which is what lets
// one "Records" field take S3's, SNS's and SQS's batches alike.
type probe struct {
	Records     []json.RawMessage `json:"Records"`
	DetailType  *string           `json:"detail-type"`
	Source      string            `json:"source"`
	Detail      json.RawMessage   `json:"detail"`
	Type        string            `json:"Type"`        // SNS message delivered to SQS without raw delivery
	Message     *string           `json:"Message"`     // its payload
	S3Bucket    string            `json:"s3Bucket"`    // CloudTrail's own SNS delivery notification
	S3ObjectKey []string          `json:"s3ObjectKey"` // ... and the keys it delivered
	Event       string            `json:"Event"`       // "s3:TestEvent" when a notification is configured
	EventName   string            `json:"eventName"`   // a bare CloudTrail record
	EventTime   string            `json:"eventTime"`
}

// recordProbe tells apart the records of an S3, SNS or SQS batch.
type recordProbe struct {
	EventSource string `json:"eventSource"` // "aws:s3", "aws:sqs"; SNS spells it "EventSource": "aws:sns"
	S3          *struct {
		Bucket struct {
			Name string `json:"name"`
		} `json:"bucket"`
		Object struct {
			Key string `json:"key"`
		} `json:"object"`
	} `json:"s3"`
	Sns *struct {
		Message string `json:"Message"`
	} `json:"Sns"`
	Body *string `json:"body"`
}

// parse finds the work in a Lambda payload, unwrapping SNS and SQS
// envelopes (and SNS inside SQS) around S3 notifications, CloudTrail's
// delivery notifications and EventBridge events.
func parse(raw []byte) (work, error) {
	var w work
	if err := w.collect(raw, 0); err != nil {
		return work{}, err
	}
	return w, nil
}

func (w *work) collect(raw []byte, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("envelopes nested over %d deep: %w", maxDepth, ErrUnrecognized)
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return fmt.Errorf("payload is not a json object: %w", ErrUnrecognized)
	}
	var p probe
	if err := json.Unmarshal(raw, &p); err != nil {
		return fmt.Errorf("decode payload: %v: %w", err, ErrUnrecognized)
	}
	switch {
	case p.Records != nil:
		return w.records(p.Records, depth)
	case p.DetailType != nil:
		return w.eventBridge(raw, p)
	case p.Type == "Notification" && p.Message != nil:
		return w.collect([]byte(*p.Message), depth+1)
	case p.S3Bucket != "" && p.S3ObjectKey != nil:
		for _, k := range p.S3ObjectKey {
			w.Objects = append(w.Objects, objectRef{Bucket: p.S3Bucket, Key: k})
		}
		return nil
	case p.Event == "s3:TestEvent":
		w.Skipped++
		return nil
	case p.EventName != "" && p.EventTime != "":
		w.Records = append(w.Records, json.RawMessage(raw))
		return nil
	}
	return fmt.Errorf("json object of no known shape: %w", ErrUnrecognized)
}

// records handles the batch of an S3, SNS or SQS event.
func (w *work) records(recs []json.RawMessage, depth int) error {
	for i, rec := range recs {
		var r recordProbe
		if err := json.Unmarshal(rec, &r); err != nil {
			return fmt.Errorf("record %d: %v: %w", i, err, ErrUnrecognized)
		}
		switch {
		case r.EventSource == "aws:s3" && r.S3 != nil:
			if r.S3.Bucket.Name == "" || r.S3.Object.Key == "" {
				return fmt.Errorf("record %d: s3 notification without bucket and key: %w", i, ErrUnrecognized)
			}
			// S3 notifications URL-encode keys, form style ("+" is a space).
			key, err := url.QueryUnescape(r.S3.Object.Key)
			if err != nil {
				return fmt.Errorf("record %d: object key %q: %v: %w", i, r.S3.Object.Key, err, ErrUnrecognized)
			}
			w.Objects = append(w.Objects, objectRef{Bucket: r.S3.Bucket.Name, Key: key})
		case r.EventSource == "aws:sns" && r.Sns != nil:
			if err := w.collect([]byte(r.Sns.Message), depth+1); err != nil {
				return fmt.Errorf("record %d: sns message: %w", i, err)
			}
		case r.EventSource == "aws:sqs" && r.Body != nil:
			if err := w.collect([]byte(*r.Body), depth+1); err != nil {
				return fmt.Errorf("record %d: sqs body: %w", i, err)
			}
		default:
			// A CloudTrail log file's own batch: its records are events.
			if err := w.collect(rec, depth+1); err != nil {
				return fmt.Errorf("record %d: %w", i, err)
			}
		}
	}
	return nil
}

// eventBridge handles an EventBridge event: a CloudTrail record, S3's
// "Object Created" for a bucket that sends its events to EventBridge, or a
// schedule rule's tick.
func (w *work) eventBridge(raw []byte, p probe) error {
	switch dt := *p.DetailType; {
	case strings.HasSuffix(dt, "via CloudTrail"):
		w.Records = append(w.Records, json.RawMessage(raw))
	case p.Source == "aws.events" && dt == "Scheduled Event":
		w.Scheduled = true
	case p.Source == "aws.s3" && dt == "Object Created":
		var d struct {
			Bucket struct {
				Name string `json:"name"`
			} `json:"bucket"`
			Object struct {
				Key string `json:"key"`
			} `json:"object"`
		}
		if err := json.Unmarshal(p.Detail, &d); err != nil || d.Bucket.Name == "" || d.Object.Key == "" {
			return fmt.Errorf("s3 object created event without bucket and key: %w", ErrUnrecognized)
		}
		w.Objects = append(w.Objects, objectRef{Bucket: d.Bucket.Name, Key: d.Object.Key})
	default:
		w.Skipped++
	}
	return nil
}
