//! `ApiError`: every failure a handler can return, mapped to one status and a JSON body
//! `{"error": "...", "error_type": "..."}`. Client errors say exactly what was wrong; server
//! errors get a generic message and their cause is logged once.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sociograph_core::Error as CoreError;
use sociograph_llm::Error as ModelError;

/// What a client may see of a model failure: the provider's status, our timeout, or our own
/// limit — never the provider's URL or reply body (those go to the log).
pub fn model_failure_message(e: &ModelError) -> String {
    match e {
        ModelError::Status { status, .. } => {
            format!("the language model provider answered HTTP {status}")
        }
        ModelError::Timeout { seconds, .. } => {
            format!("the language model provider did not answer within {seconds}s")
        }
        ModelError::Connect { .. } => "the language model provider could not be reached".into(),
        ModelError::BadReply(_) => {
            "the language model provider sent a reply we could not use".into()
        }
        ModelError::Busy { .. } => e.to_string(),
        ModelError::Config(_) | ModelError::ModelLoad { .. } | ModelError::Inference(_) => {
            "the model failed".into()
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Core(#[from] CoreError),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("missing API key: send Authorization: Bearer <key>")]
    Unauthorized,
    #[error("the API key is not valid")]
    Forbidden,
    #[error("{message}")]
    TooManyRequests {
        message: String,
        retry_after_secs: u64,
    },
    #[error("{0}")]
    NotReady(String),
    #[error("the request took longer than {0}s and was abandoned; try again or narrow it")]
    Timeout(u64),
    #[error("internal error: {0}")]
    Internal(String),
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What went wrong, for a person.
    pub error: String,
    /// A stable machine-readable kind.
    pub error_type: &'static str,
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Core(e) => match e {
                CoreError::InvalidInput(_) => (StatusCode::BAD_REQUEST, "invalid_input"),
                CoreError::UnsupportedType(_) => {
                    (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_type")
                }
                CoreError::EmptyFile { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "empty_file"),
                CoreError::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
                CoreError::EncryptedPdf { .. } => {
                    (StatusCode::UNPROCESSABLE_ENTITY, "encrypted_pdf")
                }
                CoreError::CorruptPdf { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "corrupt_pdf"),
                CoreError::NoText { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "no_text"),
                CoreError::InvalidUtf8 { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_utf8"),
                CoreError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
                CoreError::Store(_) => (StatusCode::INTERNAL_SERVER_ERROR, "storage_error"),
                CoreError::Model(m) => match m {
                    ModelError::Timeout { .. } => (StatusCode::GATEWAY_TIMEOUT, "model_timeout"),
                    ModelError::Status { .. } | ModelError::Connect { .. } => {
                        (StatusCode::BAD_GATEWAY, "model_unavailable")
                    }
                    ModelError::BadReply(_) => (StatusCode::BAD_GATEWAY, "model_bad_reply"),
                    ModelError::Busy { .. } => (StatusCode::TOO_MANY_REQUESTS, "model_busy"),
                    ModelError::Config(_)
                    | ModelError::ModelLoad { .. }
                    | ModelError::Inference(_) => {
                        (StatusCode::INTERNAL_SERVER_ERROR, "model_error")
                    }
                },
                CoreError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
            },
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "invalid_input"),
            ApiError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::TooManyRequests { .. } => (StatusCode::TOO_MANY_REQUESTS, "overloaded"),
            ApiError::NotReady(_) => (StatusCode::SERVICE_UNAVAILABLE, "not_ready"),
            ApiError::Timeout(_) => (StatusCode::SERVICE_UNAVAILABLE, "timeout"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl From<sociograph_store::Error> for ApiError {
    fn from(e: sociograph_store::Error) -> Self {
        ApiError::Core(CoreError::Store(e))
    }
}

impl ApiError {
    /// The status and body a client sees. Server-side causes are logged here, once.
    pub fn to_body(&self) -> (StatusCode, ErrorBody) {
        let (status, error_type) = self.parts();
        let message = match self {
            ApiError::Core(CoreError::Model(m)) => {
                if status.is_server_error() {
                    tracing::error!(error = %self, error_type, "model call failed");
                }
                model_failure_message(m)
            }
            _ if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE => {
                tracing::error!(error = %self, error_type, "request failed");
                "internal server error".to_owned()
            }
            _ => self.to_string(),
        };
        (
            status,
            ErrorBody {
                error: message,
                error_type,
            },
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = self.to_body();
        let mut response = (status, Json(body)).into_response();
        let retry_after = match &self {
            ApiError::TooManyRequests {
                retry_after_secs, ..
            } => Some(HeaderValue::from(*retry_after_secs)),
            ApiError::Core(CoreError::Model(ModelError::Busy { .. })) => {
                Some(HeaderValue::from_static("2"))
            }
            _ if status == StatusCode::SERVICE_UNAVAILABLE => Some(HeaderValue::from_static("1")),
            _ => None,
        };
        if let Some(value) = retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}
