package awsx

import (
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3Client is the S3 client for reading CloudTrail logs. A local endpoint
// (an emulator, a proxy: AWS_ENDPOINT_URL or AWS_ENDPOINT_URL_S3) has no
// bucket subdomains, so it is addressed by path; and log objects carry no
// checksum, which is not worth a log line each.
func S3Client(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = os.Getenv("AWS_ENDPOINT_URL") != "" || os.Getenv("AWS_ENDPOINT_URL_S3") != ""
		o.DisableLogOutputChecksumValidationSkipped = true
	})
}
