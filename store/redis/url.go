package redis

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	goredis "github.com/redis/go-redis/v9"
)

// ParseURL parses a store.redis_url into go-redis UniversalOptions. Forms:
//
//	redis://[user:password@]host[:port][/db][?option=value…]    one server
//	rediss://…                                                  the same over TLS
//	redis://host1:6379?cluster=true&addr=host2:6379&addr=…      Redis Cluster
//	redis://sentinel1:26379?master_name=mymaster&addr=sentinel2:26379
//	                                                             Redis Sentinel
//
// Cluster: host and every addr are seed nodes; there are no databases, so a
// path other than /0 is an error. Sentinel: host and every addr are
// sentinels; user:password authenticates to the sentinels and the query
// options username and password to the master (go-redis's convention). The
// other options are go-redis's snake_case ones (dial_timeout=3s,
// pool_size=20, …); unknown options are errors. The port defaults to 6379.
// Errors never contain the password.
func ParseURL(rawURL string) (*goredis.UniversalOptions, error) {
	o, err := parseURL(rawURL)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			// Both a *url.Error and its detail may quote the password.
			err = errors.New("malformed URL (check host, port and the percent-encoding of user and password)")
		}
		return nil, fmt.Errorf("parse redis url: %w", err)
	}
	return o, nil
}

func parseURL(rawURL string) (*goredis.UniversalOptions, error) {
	if strings.TrimSpace(rawURL) == "" {
		return nil, errors.New("empty URL")
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return nil, fmt.Errorf("scheme %q: want redis:// or rediss://", u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, errors.New("no host")
	}
	q := u.Query()
	cluster := false
	if q.Has("cluster") {
		if cluster, err = strconv.ParseBool(q.Get("cluster")); err != nil {
			return nil, fmt.Errorf("cluster=%q: want true or false", q.Get("cluster"))
		}
		q.Del("cluster")
	}
	master := q.Get("master_name")
	switch {
	case cluster && master != "":
		return nil, errors.New("cluster=true and master_name (Sentinel) exclude each other")
	case q.Has("master_name") && master == "":
		return nil, errors.New("empty master_name")
	case cluster && strings.Trim(u.Path, "/") != "" && strings.Trim(u.Path, "/") != "0":
		return nil, fmt.Errorf("database %q: Redis Cluster has only database 0", strings.Trim(u.Path, "/"))
	case !cluster && master == "" && q.Has("addr"):
		return nil, errors.New("addr lists more nodes, which needs cluster=true or master_name")
	}
	if cluster {
		u.Path = ""
	}
	u.RawQuery = q.Encode()
	clean := u.String()
	switch {
	case cluster:
		o, err := goredis.ParseClusterURL(clean)
		if err != nil {
			return nil, err
		}
		// route_by_latency and route_randomly turn read_only on.
		if o.ReadOnly || o.RouteByLatency || o.RouteRandomly {
			return nil, errors.New("read_only, route_by_latency, route_randomly: the store needs up-to-date reads from masters")
		}
		return fromCluster(o), nil
	case master != "":
		o, err := goredis.ParseFailoverURL(clean)
		if err != nil {
			return nil, err
		}
		if o.ReplicaOnly {
			return nil, errors.New("replica_only: the store writes, so it needs the master")
		}
		if o.RouteByLatency || o.RouteRandomly {
			return nil, errors.New("route_by_latency, route_randomly: the store needs up-to-date reads from the master")
		}
		return fromFailover(o), nil
	default:
		o, err := goredis.ParseURL(clean)
		if err != nil {
			return nil, err
		}
		return fromSimple(o), nil
	}
}

func fromSimple(o *goredis.Options) *goredis.UniversalOptions {
	return &goredis.UniversalOptions{
		Addrs: []string{o.Addr}, DB: o.DB, ClientName: o.ClientName, Protocol: o.Protocol,
		Username: o.Username, Password: o.Password, TLSConfig: o.TLSConfig,
		MaxRetries: o.MaxRetries, MinRetryBackoff: o.MinRetryBackoff, MaxRetryBackoff: o.MaxRetryBackoff,
		DialTimeout: o.DialTimeout, ReadTimeout: o.ReadTimeout, WriteTimeout: o.WriteTimeout,
		PoolFIFO: o.PoolFIFO, PoolSize: o.PoolSize, PoolTimeout: o.PoolTimeout,
		MinIdleConns: o.MinIdleConns, MaxIdleConns: o.MaxIdleConns, MaxActiveConns: o.MaxActiveConns,
		MaxConcurrentDials: o.MaxConcurrentDials, ConnMaxIdleTime: o.ConnMaxIdleTime,
		ConnMaxLifetime: o.ConnMaxLifetime, ConnMaxLifetimeJitter: o.ConnMaxLifetimeJitter,
		PipelinePoolSize: o.PipelinePoolSize, PipelineReadBufferSize: o.PipelineReadBufferSize,
		PipelineWriteBufferSize: o.PipelineWriteBufferSize,
	}
}

func fromCluster(o *goredis.ClusterOptions) *goredis.UniversalOptions {
	return &goredis.UniversalOptions{
		Addrs: o.Addrs, IsClusterMode: true, ClientName: o.ClientName, Protocol: o.Protocol,
		Username: o.Username, Password: o.Password, TLSConfig: o.TLSConfig,
		MaxRedirects: o.MaxRedirects, RouteByLatency: o.RouteByLatency,
		RouteByLatencyTolerance: o.RouteByLatencyTolerance, RouteRandomly: o.RouteRandomly,
		MaxRetries: o.MaxRetries, MinRetryBackoff: o.MinRetryBackoff, MaxRetryBackoff: o.MaxRetryBackoff,
		DialTimeout: o.DialTimeout, DialerRetries: o.DialerRetries, DialerRetryTimeout: o.DialerRetryTimeout,
		ReadTimeout: o.ReadTimeout, WriteTimeout: o.WriteTimeout,
		PoolFIFO: o.PoolFIFO, PoolSize: o.PoolSize, PoolTimeout: o.PoolTimeout,
		MinIdleConns: o.MinIdleConns, MaxIdleConns: o.MaxIdleConns, MaxActiveConns: o.MaxActiveConns,
		MaxConcurrentDials: o.MaxConcurrentDials, ConnMaxIdleTime: o.ConnMaxIdleTime,
		ConnMaxLifetime: o.ConnMaxLifetime, ConnMaxLifetimeJitter: o.ConnMaxLifetimeJitter,
		PipelinePoolSize: o.PipelinePoolSize, PipelineReadBufferSize: o.PipelineReadBufferSize,
		PipelineWriteBufferSize: o.PipelineWriteBufferSize, FailingTimeoutSeconds: o.FailingTimeoutSeconds,
	}
}

func fromFailover(o *goredis.FailoverOptions) *goredis.UniversalOptions {
	return &goredis.UniversalOptions{
		Addrs: o.SentinelAddrs, MasterName: o.MasterName, DB: o.DB, ClientName: o.ClientName,
		Protocol: o.Protocol, Username: o.Username, Password: o.Password,
		SentinelUsername: o.SentinelUsername, SentinelPassword: o.SentinelPassword, TLSConfig: o.TLSConfig,
		RouteByLatency: o.RouteByLatency, RouteByLatencyTolerance: o.RouteByLatencyTolerance, RouteRandomly: o.RouteRandomly,
		MaxRetries: o.MaxRetries, MinRetryBackoff: o.MinRetryBackoff, MaxRetryBackoff: o.MaxRetryBackoff,
		DialTimeout: o.DialTimeout, DialerRetries: o.DialerRetries, DialerRetryTimeout: o.DialerRetryTimeout,
		ReadTimeout: o.ReadTimeout, WriteTimeout: o.WriteTimeout, ContextTimeoutEnabled: o.ContextTimeoutEnabled,
		PoolFIFO: o.PoolFIFO, PoolSize: o.PoolSize, PoolTimeout: o.PoolTimeout,
		MinIdleConns: o.MinIdleConns, MaxIdleConns: o.MaxIdleConns, MaxActiveConns: o.MaxActiveConns,
		MaxConcurrentDials: o.MaxConcurrentDials, ConnMaxIdleTime: o.ConnMaxIdleTime,
		ConnMaxLifetime: o.ConnMaxLifetime, ConnMaxLifetimeJitter: o.ConnMaxLifetimeJitter,
		PipelinePoolSize: o.PipelinePoolSize, PipelineReadBufferSize: o.PipelineReadBufferSize,
		PipelineWriteBufferSize: o.PipelineWriteBufferSize, DisableIdentity: o.DisableIdentity,
		IdentitySuffix: o.IdentitySuffix,
	}
}
