// Package watchaws is watch's AWS side: the DynamoDB state store of the
// Lambda function, SES's sending statistics for the --ses-volume poller,
// and the publisher of the sns: sink.
package watchaws

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/keywarden/keywarden/internal/detect"
)

// DynamoDB attribute names of the state table. The table's partition key is
// "ns" (string) and its sort key "k" (string); "v" holds the value (binary)
// and "expires" (number, epoch seconds) is the table's TTL attribute, set
// only for namespaces given a lifetime.
const (
	dynamoNS      = "ns"
	dynamoKey     = "k"
	dynamoValue   = "v"
	dynamoExpires = "expires"
)

// dynamoTimeout bounds one call inside the caller's deadline: a Lambda
// invocation must fail (and be retried) rather than spend its whole time on
// one stuck call.
const dynamoTimeout = 20 * time.Second

// DynamoAPI is the part of *dynamodb.Client the store uses.
type DynamoAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// DynamoStore is a detect.Store in a DynamoDB table: the state of watch
// when it runs as a Lambda function, shared by its concurrent invocations.
type DynamoStore struct {
	client DynamoAPI
	table  string
	ttl    map[string]time.Duration
	now    func() time.Time
}

var _ detect.Store = (*DynamoStore)(nil)

// NewDynamoStore returns a store in table, with clients built from cfg.
func NewDynamoStore(cfg aws.Config, table string) *DynamoStore {
	return NewDynamoStoreClient(dynamodb.NewFromConfig(cfg), table)
}

// NewDynamoStoreClient returns a store in table through client.
func NewDynamoStoreClient(client DynamoAPI, table string) *DynamoStore {
	return &DynamoStore{client: client, table: table, ttl: map[string]time.Duration{}, now: time.Now}
}

// SetTTL makes every value later put in namespace expire d after it is put
// (DynamoDB deletes it within days of that; Get hides it at once). Call it
// before the store is shared between goroutines.
func (s *DynamoStore) SetTTL(namespace string, d time.Duration) { s.ttl[namespace] = d }

// SetClock replaces time.Now, for tests of expiry.
func (s *DynamoStore) SetClock(now func() time.Time) { s.now = now }

func itemKey(namespace, key string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		dynamoNS:  &types.AttributeValueMemberS{Value: namespace},
		dynamoKey: &types.AttributeValueMemberS{Value: key},
	}
}

// Get returns the value under namespace and key; ok is false when there is
// none or it has expired. Reads are strongly consistent, so a value put by
// another invocation a moment ago is seen.
func (s *DynamoStore) Get(ctx context.Context, namespace, key string) ([]byte, bool, error) {
	if err := checkItemKey(namespace, key); err != nil {
		return nil, false, err
	}
	ctx, cancel := context.WithTimeout(ctx, dynamoTimeout)
	defer cancel()
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: itemKey(namespace, key), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, false, fmt.Errorf("get %s/%s from dynamodb table %s: %w", namespace, key, s.table, err)
	}
	if out.Item == nil || s.expired(out.Item) {
		return nil, false, nil
	}
	v, ok := out.Item[dynamoValue].(*types.AttributeValueMemberB)
	if !ok {
		return nil, false, fmt.Errorf("get %s/%s from dynamodb table %s: attribute %q is not binary", namespace, key, s.table, dynamoValue)
	}
	return v.Value, true, nil
}

// expired reports whether an item's TTL has passed: DynamoDB deletes
// expired items lazily, up to days later, so reads must ignore them.
func (s *DynamoStore) expired(item map[string]types.AttributeValue) bool {
	n, ok := item[dynamoExpires].(*types.AttributeValueMemberN)
	if !ok {
		return false
	}
	sec, err := strconv.ParseInt(n.Value, 10, 64)
	return err == nil && s.now().Unix() >= sec
}

// Put stores value under namespace and key, replacing what was there.
func (s *DynamoStore) Put(ctx context.Context, namespace, key string, value []byte) error {
	_, err := s.put(ctx, namespace, key, value, false)
	return err
}

// PutIfAbsent stores value only when namespace and key hold nothing (or
// only an expired value), atomically: of concurrent callers exactly one
// gets true. Lambda invocations claim work with it.
func (s *DynamoStore) PutIfAbsent(ctx context.Context, namespace, key string, value []byte) (bool, error) {
	return s.put(ctx, namespace, key, value, true)
}

func (s *DynamoStore) put(ctx context.Context, namespace, key string, value []byte, ifAbsent bool) (bool, error) {
	if err := checkItemKey(namespace, key); err != nil {
		return false, err
	}
	item := itemKey(namespace, key)
	item[dynamoValue] = &types.AttributeValueMemberB{Value: append([]byte{}, value...)}
	now := s.now()
	if d, ok := s.ttl[namespace]; ok {
		item[dynamoExpires] = &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Add(d).Unix(), 10)}
	}
	in := &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}
	if ifAbsent {
		in.ConditionExpression = aws.String("attribute_not_exists(#ns) OR #exp <= :now")
		in.ExpressionAttributeNames = map[string]string{"#ns": dynamoNS, "#exp": dynamoExpires}
		in.ExpressionAttributeValues = map[string]types.AttributeValue{
			":now": &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Unix(), 10)},
		}
	}
	ctx, cancel := context.WithTimeout(ctx, dynamoTimeout)
	defer cancel()
	if _, err := s.client.PutItem(ctx, in); err != nil {
		var cond *types.ConditionalCheckFailedException
		if ifAbsent && errors.As(err, &cond) {
			return false, nil
		}
		return false, fmt.Errorf("put %s/%s in dynamodb table %s: %w", namespace, key, s.table, err)
	}
	return true, nil
}

// Delete removes the value under namespace and key, if any.
func (s *DynamoStore) Delete(ctx context.Context, namespace, key string) error {
	if err := checkItemKey(namespace, key); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, dynamoTimeout)
	defer cancel()
	_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: itemKey(namespace, key)})
	if err != nil {
		return fmt.Errorf("delete %s/%s from dynamodb table %s: %w", namespace, key, s.table, err)
	}
	return nil
}

// checkItemKey rejects what DynamoDB would: empty key attributes, and keys
// over its 1 KB sort-key limit (2 KB partition), before a round trip.
func checkItemKey(namespace, key string) error {
	switch {
	case namespace == "" || key == "":
		return fmt.Errorf("dynamodb store: empty namespace or key (%q, %q)", namespace, key)
	case len(namespace) > 2048 || len(key) > 1024:
		return fmt.Errorf("dynamodb store: namespace or key too long (%d, %d bytes)", len(namespace), len(key))
	}
	return nil
}

// CreateDynamoStoreTable creates the table a DynamoStore needs, as
// deploy/template.yaml declares it: partition key "ns", sort key "k",
// on-demand billing. For tests and manual setups; the SAM template makes it
// in a deployment.
func CreateDynamoStoreTable(ctx context.Context, client *dynamodb.Client, table string) error {
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(dynamoNS), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(dynamoKey), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(dynamoNS), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(dynamoKey), KeyType: types.KeyTypeRange},
		},
		BillingMode: types.BillingModePayPerRequest,
	})
	if err != nil {
		return fmt.Errorf("create dynamodb table %s: %w", table, err)
	}
	return nil
}
