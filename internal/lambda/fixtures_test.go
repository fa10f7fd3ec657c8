package lambda_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// The payload shapes below are AWS's documented examples (S3 event
// notification structure, SNS and SQS Lambda events, EventBridge S3 and
// CloudTrail events), with the bucket and key filled in.

// s3Notification is an S3 ObjectCreated:Put event for bucket and keys, as
// S3 sends it: one record per object, keys URL-encoded form style.
func s3Notification(bucket string, keys ...string) string {
	var recs []string
	for i, key := range keys {
		recs = append(recs, fmt.Sprintf(`{
      "eventVersion": "2.1",
      "eventSource": "aws:s3",
      "awsRegion": "us-east-1",
      "eventTime": "2026-11-23T12:05:00.000Z",
      "eventName": "ObjectCreated:Put",
      "userIdentity": {"principalId": "AWS:AROAEXAMPLE:regionalDeliverySession"},
      "requestParameters": {"sourceIPAddress": "192.0.2.10"},
      "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},
      "s3": {
        "s3SchemaVersion": "1.0",
        "configurationId": "keywarden",
        "bucket": {"name": %q, "ownerIdentity": {"principalId": "A3NL1KOZZKExample"}, "arn": "arn:aws:s3:::%s"},
        "object": {"key": %q, "size": 1024, "eTag": "d41d8cd98f00b204e9800998ecf8427e", "sequencer": "0055AED6DCD9028%03d"}
      }
    }`, bucket, bucket, url.QueryEscape(key), i))
	}
	return `{"Records": [` + strings.Join(recs, ",") + `]}`
}

// snsWrapped is message delivered to Lambda by an SNS subscription.
func snsWrapped(message string) string {
	return fmt.Sprintf(`{"Records": [{
    "EventVersion": "1.0",
    "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:trail-events:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55",
    "EventSource": "aws:sns",
    "Sns": {
      "SignatureVersion": "1",
      "Timestamp": "2026-11-23T12:05:01.000Z",
      "Signature": "tcc6faL2yUC6dgZdmrwh1Y4cGa/ebXEkAi6RibDsvpi+tE/1+82j...65r==",
      "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-ac565b8b1a6c5d002d285f9598aa1d9b.pem",
      "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
      "Message": %s,
      "MessageAttributes": {},
      "Type": "Notification",
      "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
      "TopicArn": "arn:aws:sns:us-east-1:123456789012:trail-events",
      "Subject": "Amazon S3 Notification"
    }
  }]}`, jsonString(message))
}

// snsToSQSBody is the body SNS puts in an SQS queue without raw delivery.
func snsToSQSBody(message string) string {
	return fmt.Sprintf(`{
  "Type": "Notification",
  "MessageId": "0a7b3c55-2f4e-5c3a-9d1e-1f2a3b4c5d6e",
  "TopicArn": "arn:aws:sns:us-east-1:123456789012:trail-events",
  "Subject": "Amazon S3 Notification",
  "Message": %s,
  "Timestamp": "2026-11-23T12:05:01.000Z",
  "SignatureVersion": "1",
  "Signature": "EXAMPLE",
  "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService.pem",
  "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe"
}`, jsonString(message))
}

// sqsWrapped is body delivered to Lambda by an SQS event source mapping.
func sqsWrapped(bodies ...string) string {
	var recs []string
	for i, body := range bodies {
		recs = append(recs, fmt.Sprintf(`{
      "messageId": "059f36b4-87a3-44ab-83d2-661975830a7%d",
      "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
      "body": %s,
      "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1545082649183",
        "SenderId": "AIDAIENQZJOLO23YVJ4VO", "ApproximateFirstReceiveTimestamp": "1545082649185"},
      "messageAttributes": {},
      "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
      "eventSource": "aws:sqs",
      "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:trail-events",
      "awsRegion": "us-east-1"
    }`, i, jsonString(body)))
	}
	return `{"Records": [` + strings.Join(recs, ",") + `]}`
}

// eventBridgeObjectCreated is S3's "Object Created" event on EventBridge.
func eventBridgeObjectCreated(bucket, key string) string {
	return fmt.Sprintf(`{
  "version": "0",
  "id": "17793124-05d4-b198-2fde-7ededc63b103",
  "detail-type": "Object Created",
  "source": "aws.s3",
  "account": "123456789012",
  "time": "2026-11-23T12:05:00Z",
  "region": "us-east-1",
  "resources": ["arn:aws:s3:::%s"],
  "detail": {
    "version": "0",
    "bucket": {"name": %q},
    "object": {"key": %q, "size": 1024, "etag": "b1946ac92492d2347c6235b4d2611184", "sequencer": "00617F08299329D189"},
    "request-id": "N4N7GDK58NMKJ12R",
    "requester": "cloudtrail.amazonaws.com",
    "source-ip-address": "192.0.2.10",
    "reason": "PutObject"
  }
}`, bucket, bucket, key)
}

// eventBridgeCloudTrail wraps a CloudTrail record as EventBridge delivers
// it: "AWS API Call via CloudTrail" with the record as detail.
func eventBridgeCloudTrail(t *testing.T, record json.RawMessage) string {
	t.Helper()
	var r struct {
		EventSource string `json:"eventSource"`
		Region      string `json:"awsRegion"`
		Account     string `json:"recipientAccountId"`
		Time        string `json:"eventTime"`
	}
	if err := json.Unmarshal(record, &r); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf(`{"version": "0", "id": "6f2b3c4d-1111-2222-3333-444455556666",
  "detail-type": "AWS API Call via CloudTrail", "source": %q, "account": %q, "time": %q,
  "region": %q, "resources": [], "detail": %s}`,
		"aws."+strings.TrimSuffix(r.EventSource, ".amazonaws.com"), r.Account, r.Time, r.Region, record)
}

// cloudTrailSNSNotification is what CloudTrail publishes to a trail's SNS
// topic after delivering log files.
func cloudTrailSNSNotification(bucket string, keys ...string) string {
	b, _ := json.Marshal(map[string]any{"s3Bucket": bucket, "s3ObjectKey": keys})
	return string(b)
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
