# alternative: a one-hot matrix product and the class counts (0 / 0 gives the NaN rows)
def class_centroids(z: torch.Tensor, y: torch.Tensor, num_classes: int = 10) -> torch.Tensor:
    """The mean of the rows of z for each label 0..num_classes-1; NaN rows for labels absent from y."""
    ### BEGIN SOLUTION
    one_hot = F.one_hot(y, num_classes).to(z.dtype)  # N x C
    counts = one_hot.sum(dim=0)
    return (one_hot.T @ z) / counts[:, None]
    ### END SOLUTION
