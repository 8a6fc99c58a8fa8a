from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """?page=n&page_size=m; pipelines reading long metric series may ask for bigger pages."""

    page_size_query_param = "page_size"
    max_page_size = 500
