package watchaws_test

import (
	"testing"

	"github.com/keywarden/keywarden/internal/awstest"
)

// TestMain stops the moto_server the DynamoDB, SES and SNS tests start.
func TestMain(m *testing.M) { awstest.Main(m) }
