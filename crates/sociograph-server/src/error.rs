//! `ApiError`: every failure a handler can return, mapped to one status and a JSON body
//! `{"error": "...", "error_type": "..."}`. Client errors say exactly what was wrong; server
//! errors get a generic message and their cause is logged once.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sociograph_core::Error as CoreError;

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
                    sociograph_llm::Error::Timeout { .. } => {
                        (StatusCode::GATEWAY_TIMEOUT, "model_timeout")
                    }
                    sociograph_llm::Error::Status { .. }
                    | sociograph_llm::Error::Connect { .. }
                    | sociograph_llm::Error::BadReply(_) => {
                        (StatusCode::BAD_GATEWAY, "model_unavailable")
                    }
                    sociograph_llm::Error::Config(_)
                    | sociograph_llm::Error::ModelLoad { .. }
                    | sociograph_llm::Error::Inference(_) => {
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

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, error_type) = self.parts();
        let message = if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
            tracing::error!(error = %self, error_type, "request failed");
            match status {
                StatusCode::BAD_GATEWAY => {
                    "the language model provider failed; try again later".to_owned()
                }
                StatusCode::GATEWAY_TIMEOUT => {
                    "the language model provider timed out; try again later".to_owned()
                }
                _ => "internal server error".to_owned(),
            }
        } else {
            self.to_string()
        };
        let mut response = (
            status,
            Json(ErrorBody {
                error: message,
                error_type,
            }),
        )
            .into_response();
        if let ApiError::TooManyRequests {
            retry_after_secs, ..
        } = self
        {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}
