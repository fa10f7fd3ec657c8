package cloudtrailaws_test

import (
	"testing"

	"github.com/keywarden/keywarden/internal/awstest"
)

// TestMain stops the moto_server the S3 tests start.
func TestMain(m *testing.M) { awstest.Main(m) }
