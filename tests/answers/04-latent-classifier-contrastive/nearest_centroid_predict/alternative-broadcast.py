# alternative: squared distances by broadcasting, NaN centroids set to +inf with torch.where
def nearest_centroid_predict(z: torch.Tensor, centroids: torch.Tensor) -> torch.Tensor:
    """The index of the nearest centroid (Euclidean) of each row of z; NaN centroids are never chosen."""
    ### BEGIN SOLUTION
    squared = ((z[:, None, :] - centroids[None, :, :]) ** 2).sum(dim=2)
    distances = torch.where(torch.isnan(squared), torch.full_like(squared, float("inf")), squared)
    return distances.argmin(dim=1)
    ### END SOLUTION
