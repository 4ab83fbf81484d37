package fake

import (
	"errors"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// notFoundPath is what kube-apiserver's go-restful container answers for a
// path no route serves (e.g. PATCH pods/NAME/scale); kubectl prints its
// message as is.
func notFoundPath() *apierrors.StatusError {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status:  metav1.StatusFailure,
		Message: "the server could not find the requested resource",
		Reason:  metav1.StatusReasonNotFound,
		Details: &metav1.StatusDetails{Causes: []metav1.StatusCause{{
			Type: metav1.CauseTypeUnexpectedServerResponse, Message: "404: Page Not Found",
		}}},
		Code: http.StatusNotFound,
	}}
}

func methodNotAllowed() *apierrors.StatusError {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status:  metav1.StatusFailure,
		Message: "the server does not allow this method on the requested resource",
		Reason:  metav1.StatusReasonMethodNotAllowed,
		Details: &metav1.StatusDetails{Causes: []metav1.StatusCause{{
			Type: metav1.CauseTypeUnexpectedServerResponse, Message: "405: Method Not Allowed",
		}}},
		Code: http.StatusMethodNotAllowed,
	}}
}

func unauthorized() *apierrors.StatusError {
	return apierrors.NewUnauthorized("Unauthorized")
}

func internalError(err error) *apierrors.StatusError {
	return apierrors.NewInternalError(err)
}

// toStatus turns any error into the Status a client receives; errors that
// are not API errors become 500s.
func toStatus(err error) metav1.Status {
	var se apierrors.APIStatus
	if errors.As(err, &se) {
		st := se.Status()
		if st.Code == 0 {
			st.Code = http.StatusInternalServerError
		}
		if st.Status == "" {
			st.Status = metav1.StatusFailure
		}
		return st
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return apierrors.NewRequestEntityTooLargeError("limit is 3145728").Status()
	}
	var gone errGone
	if errors.As(err, &gone) {
		return apierrors.NewResourceExpired(gone.Error()).Status()
	}
	return internalError(err).Status()
}
