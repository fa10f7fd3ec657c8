package watch

import (
	"testing"

	"github.com/keywarden/keywarden/internal/awstest"
)

// TestMain stops the moto_server the SNS tests start.
func TestMain(m *testing.M) { awstest.Main(m) }
