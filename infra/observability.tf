# Observability wiring (docs/operations.md): an AWS Distro for OpenTelemetry collector runs as a
# sidecar in every task. It scrapes the service's /metrics on 127.0.0.1 and remote-writes to
# Amazon Managed Service for Prometheus (the ops/prometheus rules and ops/grafana dashboards
# load there unchanged, in Amazon Managed Grafana or any Grafana), and receives the service's
# OTLP traces on 127.0.0.1:4318 and sends them to AWS X-Ray. The self-hosted alternative
# (kube-prometheus-stack + Tempo via ops/helmfile) needs no change to the service.

resource "aws_prometheus_workspace" "main" {
  alias = var.name

  logging_configuration {
    log_group_arn = "${aws_cloudwatch_log_group.prometheus.arn}:*"
  }

  tags = local.tags
}

resource "aws_cloudwatch_log_group" "prometheus" {
  name              = "/aws/prometheus/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
  tags              = local.tags
}

locals {
  # API tasks: metrics (scraped every 60 s: samples are what Managed Prometheus bills) and
  # traces. The worker serves no HTTP, so its collector forwards traces only.
  otel_config_api = {
    extensions = {
      sigv4auth = { region = data.aws_region.current.name, service = "aps" }
    }
    receivers = {
      otlp = { protocols = { http = { endpoint = "127.0.0.1:4318" } } }
      prometheus = {
        config = {
          scrape_configs = [{
            job_name        = "sociograph"
            scrape_interval = "60s"
            static_configs  = [{ targets = ["127.0.0.1:${local.port}"] }]
          }]
        }
      }
    }
    processors = { batch = {} }
    exporters = {
      prometheusremotewrite = {
        endpoint = "${aws_prometheus_workspace.main.prometheus_endpoint}api/v1/remote_write"
        auth     = { authenticator = "sigv4auth" }
      }
      awsxray = { region = data.aws_region.current.name }
    }
    service = {
      extensions = ["sigv4auth"]
      pipelines = {
        metrics = { receivers = ["prometheus"], processors = ["batch"], exporters = ["prometheusremotewrite"] }
        traces  = { receivers = ["otlp"], processors = ["batch"], exporters = ["awsxray"] }
      }
    }
  }

  otel_config_worker = merge(local.otel_config_api, {
    receivers = { otlp = local.otel_config_api.receivers.otlp }
    exporters = { awsxray = local.otel_config_api.exporters.awsxray }
    service = {
      pipelines = {
        traces = local.otel_config_api.service.pipelines.traces
      }
    }
    extensions = {}
  })

  otel_sidecar_base = {
    image                                  = "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3"
    essential                              = false
    readonly_root_filesystem               = true
    enable_cloudwatch_logging              = true
    cloudwatch_log_group_retention_in_days = var.log_retention_days
    cloudwatch_log_group_kms_key_id        = aws_kms_key.main.arn
    memory_reservation                     = 64
  }

  otel_sidecar_api = merge(local.otel_sidecar_base, {
    environment = [{ name = "AOT_CONFIG_CONTENT", value = yamlencode(local.otel_config_api) }]
  })

  otel_sidecar_worker = merge(local.otel_sidecar_base, {
    environment = [{ name = "AOT_CONFIG_CONTENT", value = yamlencode(local.otel_config_worker) }]
  })
}
