package redis_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	goredis "github.com/redis/go-redis/v9"

	"github.com/secondme-bridge/secondme-bridge/store/redis"
)

func TestParseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		url  string
		want goredis.UniversalOptions // TLSConfig is checked apart
		tls  bool
	}{
		{
			name: "single with db",
			url:  "redis://localhost:6379/2",
			want: goredis.UniversalOptions{Addrs: []string{"localhost:6379"}, DB: 2},
		},
		{
			name: "default port and password",
			url:  "redis://:s3cret@cache",
			want: goredis.UniversalOptions{Addrs: []string{"cache:6379"}, Password: "s3cret"},
		},
		{
			name: "tls with options",
			url:  "rediss://bridge:pw@cache.example.com:6380/0?dial_timeout=3s&pool_size=20&max_retries=5",
			want: goredis.UniversalOptions{
				Addrs: []string{"cache.example.com:6380"}, Username: "bridge", Password: "pw",
				DialTimeout: 3 * time.Second, PoolSize: 20, MaxRetries: 5,
			},
			tls: true,
		},
		{
			name: "cluster",
			url:  "redis://:pw@n1:7000?cluster=true&addr=n2:7001&addr=n3:7002&read_timeout=2s",
			want: goredis.UniversalOptions{
				Addrs: []string{"n1:7000", "n2:7001", "n3:7002"}, IsClusterMode: true, Password: "pw",
				ReadTimeout: 2 * time.Second,
			},
		},
		{
			name: "cluster of one seed with /0",
			url:  "redis://n1:7000/0?cluster=1",
			want: goredis.UniversalOptions{Addrs: []string{"n1:7000"}, IsClusterMode: true},
		},
		{
			name: "sentinel",
			url:  "redis://:sentinelpw@s1:26379/3?master_name=mymaster&addr=s2:26379&password=masterpw",
			want: goredis.UniversalOptions{
				Addrs: []string{"s1:26379", "s2:26379"}, MasterName: "mymaster", DB: 3,
				SentinelPassword: "sentinelpw", Password: "masterpw",
			},
		},
		{
			name: "cluster=false is a single server",
			url:  "redis://h?cluster=false",
			want: goredis.UniversalOptions{Addrs: []string{"h:6379"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := redis.ParseURL(tt.url)
			if err != nil {
				t.Fatalf("ParseURL(%q): %v", tt.url, err)
			}
			if (got.TLSConfig != nil) != tt.tls {
				t.Errorf("TLS = %v, want %v", got.TLSConfig != nil, tt.tls)
			}
			got.TLSConfig = nil
			if diff := cmp.Diff(&tt.want, got, cmp.AllowUnexported(goredis.UniversalOptions{})); diff != "" {
				t.Errorf("ParseURL(%q) (-want +got):\n%s", tt.url, diff)
			}
		})
	}
}

func TestParseURLErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ url, want string }{
		{"", "empty URL"},
		{"  ", "empty URL"},
		{"http://h:6379", `scheme "http": want redis:// or rediss://`},
		{"unix:///tmp/redis.sock", `scheme "unix"`},
		{"redis+cluster://h1,h2", `scheme "redis+cluster"`},
		{"h:6379", "scheme"},
		{"redis://", "no host"},
		{"redis://:topsecret@h/abc", "invalid database number"},
		{"redis://h?bogus=1", "unexpected option: bogus"},
		{"redis://h?cluster=maybe", `cluster="maybe": want true or false`},
		{"redis://h?cluster=true&master_name=m", "exclude each other"},
		{"redis://h/3?cluster=true", "Redis Cluster has only database 0"},
		{"redis://h?addr=h2:6379", "needs cluster=true or master_name"},
		{"redis://h?master_name=", "empty master_name"},
		{"redis://h?cluster=true&addr=nope", "unable to parse addr"},
		{"redis://h?cluster=true&read_only=true", "read_only"},
		{"redis://h?cluster=true&route_by_latency=true", "route_by_latency"},
		{"redis://h?cluster=true&route_randomly=true", "route_randomly"},
		{"redis://h?master_name=m&route_by_latency=true", "route_by_latency"},
		{"redis://h?master_name=m&route_randomly=true", "route_randomly"},
		{"redis://h?master_name=m&replica_only=true", "replica_only"},
		{"redis://:top%zzsecret@h", "malformed URL"},
		{"redis://h:topsecret", "malformed URL"},
	}
	for _, tt := range tests {
		_, err := redis.ParseURL(tt.url)
		if err == nil {
			t.Errorf("ParseURL(%q) = nil error, want %q", tt.url, tt.want)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, tt.want) || !strings.HasPrefix(msg, "parse redis url: ") {
			t.Errorf("ParseURL(%q) error = %q, want prefix %q and %q", tt.url, msg, "parse redis url: ", tt.want)
		}
		if strings.Contains(msg, "secret") {
			t.Errorf("ParseURL(%q) error %q leaks the password", tt.url, msg)
		}
	}
}
